"""The starlette app: V2 routes, request ids, JSON access lines and metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from . import __version__, binary, v2
from .features import FeatureLookup
from .package import Package, load_package
from .metrics import Metrics

log = logging.getLogger("paved.runtime")
access = logging.getLogger("paved.access")

# Client-supplied ids end up in log lines; keep them short and free of control characters.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/=+-]{1,128}$")


class RequestContext:
    """Outermost layer: request id in, access line and metrics out, whatever the handler did."""

    def __init__(self, app: Any, metrics: Metrics, routes: list[Route]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    def _route(self, scope: dict) -> str:
        # The template, not the raw path, so a scan of random URLs cannot explode label cardinality.
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route.path
        return "unmatched"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = self._route(scope)
            self.metrics.observe(route, scope["method"], status, seconds)
            access.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(package: Package | None = None, model_dir: str | Path | None = None,
               env: dict | os._Environ = os.environ, loader: ModuleType | str | None = None) -> "_Wrapped":
    """Serve `package`, or load the one in `model_dir` (with `loader`, else PAVED_LOADER) during startup."""
    metrics = Metrics()
    max_batch = int(env.get("PAVED_MAX_BATCH", "10000"))
    max_body = int(env.get("PAVED_MAX_BODY_BYTES", str(16 * 1024 * 1024)))
    state: dict[str, Package | None] = {"package": package}
    lookup = FeatureLookup.from_env(env)
    # Server metadata: the template this image serves (set in its template.yaml env) and the runtime's version.
    server = {
        "name": f"paved-{env['PAVED_TEMPLATE']}" if env.get("PAVED_TEMPLATE") else "paved-runtime",
        "version": __version__,
        "extensions": ["binary_tensor_data"],
    }

    def current() -> Package:
        pkg = state["package"]
        if pkg is None:
            raise v2.V2Error("model is not loaded yet", 503)
        return pkg

    def model_for(request: Request) -> Package:
        pkg = current()
        name = request.path_params["name"]
        version = request.path_params.get("version")
        if name != pkg.name:
            raise v2.V2Error(f"model name: '{name}' not found; this server serves '{pkg.name}'", 404)
        if version is not None and version != pkg.version:
            raise v2.V2Error(f"model version: '{version}' not found; '{pkg.name}' is at version '{pkg.version}'", 404)
        return pkg

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        is_ready = state["package"] is not None
        return JSONResponse({"ready": is_ready}, status_code=200 if is_ready else 503)

    async def server_metadata(request: Request) -> Response:
        return JSONResponse(server)

    async def model_ready(request: Request) -> Response:
        model_for(request)
        return JSONResponse({"ready": True})

    async def model_metadata(request: Request) -> Response:
        pkg = model_for(request)
        return JSONResponse({
            "name": pkg.name,
            "versions": [pkg.version],
            "platform": pkg.platform,
            "inputs": [{"name": f.name, "datatype": f.datatype, "shape": [-1]} for f in pkg.features],
            "outputs": pkg.outputs,
        })

    async def infer(request: Request) -> Response:
        pkg = model_for(request)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body:
            raise v2.V2Error(f"body: {declared} bytes is over this server's limit of {max_body}", 413)
        header, tail = binary.split_body(await request.body(), request.headers.get(binary.HEADER))
        body = binary.attach_inputs(v2.parse_json(header), tail)
        if lookup is not None and lookup.wants(body):
            # A blocking read of the online store: off the event loop, like prediction.
            body = await run_in_threadpool(lookup.expand, body, pkg.features)
        req = v2.parse_infer(body, pkg.features, max_batch)
        # CPU-bound: off the event loop so health checks and metrics answer during a big batch.
        outputs = await run_in_threadpool(_predict, pkg, req)
        metrics.rows.inc(req.rows)
        rid = req.id if req.id is not None else request.state.request_id
        head, raw = v2.build_response(pkg.name, pkg.version, rid, outputs, req)
        if not raw:
            return JSONResponse(head)
        # The extension's response: the JSON header, then the binary outputs, split where the header says.
        text = json.dumps(head, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        return Response(text + raw, media_type="application/octet-stream",
                        headers={"Inference-Header-Content-Length": str(len(text))})

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    async def on_v2_error(request: Request, exc: v2.V2Error) -> Response:
        return _error(exc.message, exc.status)

    async def on_http_error(request: Request, exc: HTTPException) -> Response:
        return _error(f"{request.method} {request.url.path}: {exc.detail}", exc.status_code)

    async def on_crash(request: Request, exc: Exception) -> Response:
        rid = request.scope.get("state", {}).get("request_id", "")
        log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
        return _error(f"internal error; quote request id {rid}", 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if state["package"] is None:
            state["package"] = await run_in_threadpool(load_package, model_dir or env.get("PAVED_MODEL_DIR", "/model"), env, loader)
        pkg = state["package"]
        metrics.model_info.labels(pkg.name, pkg.version, pkg.platform).set(1)
        log.info("model ready", extra={"model": pkg.name, "version": pkg.version, "platform": pkg.platform,
                                       "artifact": pkg.artifact.name, "inputs": [f.name for f in pkg.features]})
        yield
        log.info("shutting down", extra={"model": pkg.name})

    routes = [
        Route("/v2", server_metadata),
        Route("/v2/health/live", live),
        Route("/v2/health/ready", ready),
        Route("/v2/models/{name}", model_metadata),
        Route("/v2/models/{name}/ready", model_ready),
        Route("/v2/models/{name}/infer", infer, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}", model_metadata),
        Route("/v2/models/{name}/versions/{version}/ready", model_ready),
        Route("/v2/models/{name}/versions/{version}/infer", infer, methods=["POST"]),
        Route("/metrics", prometheus),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={v2.V2Error: on_v2_error, HTTPException: on_http_error, Exception: on_crash},
    )
    app.state.metrics = metrics
    app.state.models = state
    return _Wrapped(RequestContext(app, metrics, routes), app)


class _Wrapped:
    """The ASGI entry point: RequestContext around the Starlette app, which stays reachable."""

    def __init__(self, asgi: RequestContext, app: Starlette) -> None:
        self.asgi = asgi
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        await self.asgi(scope, receive, send)


def _predict(pkg: Package, req: v2.InferRequest) -> dict[str, Any]:
    columns = req.columns
    if pkg.preprocess is not None:
        try:
            columns = pkg.preprocess(dict(columns))
        except (ValueError, TypeError, KeyError) as exc:
            raise v2.V2Error(f"inputs: rejected by model.py preprocess: {exc}") from None
        _check_preprocessed(columns, pkg, req.rows)
    X = v2.build_matrix(columns, pkg.features, req.rows)
    try:
        outputs = pkg.predictor.predict(X)
    except ValueError as exc:
        # The libraries raise ValueError for inputs they cannot score (sklearn: NaN, unseen categories).
        raise v2.V2Error(f"inputs: the model rejected the values: {exc}") from None
    outputs = {k: v.tolist() for k, v in outputs.items()}
    if pkg.postprocess is not None:
        outputs = pkg.postprocess(outputs)
        if not isinstance(outputs, dict):
            raise TypeError(f"model.py postprocess returned {type(outputs).__name__}, not a dict")
    return outputs


def _check_preprocessed(columns: Any, pkg: Package, rows: int) -> None:
    # A preprocess that drops a feature or changes the row count is a model.py bug, not a bad request.
    if not isinstance(columns, dict):
        raise TypeError(f"model.py preprocess returned {type(columns).__name__}, not a dict")
    for f in pkg.features:
        if f.name not in columns or len(columns[f.name]) != rows:
            raise TypeError(f"model.py preprocess must return {rows} values for every input; '{f.name}' is off")
