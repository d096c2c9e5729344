"""Entry point: `python -m paved_runtime`. Loads the model, then serves it with uvicorn.

The model is loaded before the port opens, so a refused or broken artifact stops
the container at once with one clear line instead of a server that never gets ready.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

# The root filesystem is read-only in the container; don't even try to write .pyc files.
sys.dont_write_bytecode = True

import uvicorn  # noqa: E402

from . import logs  # noqa: E402
from .app import create_app  # noqa: E402
from .package import PackageError, load_package  # noqa: E402

EXIT_REFUSED = 78  # EX_CONFIG: the package, not the runtime, needs fixing


def main() -> int:
    logs.configure(os.environ.get("PAVED_LOG_LEVEL", "INFO").upper())
    log = logging.getLogger("paved.runtime")
    model_dir = os.environ.get("PAVED_MODEL_DIR", "/model")
    try:
        package = load_package(model_dir)
    except PackageError as exc:
        log.error("cannot serve the model package", extra={"model_dir": model_dir, "reason": str(exc)})
        print(f"paved-runtime: cannot serve {model_dir}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    # A sealed container has no network: its one door in is a unix socket in a mounted
    # directory (PAVED_SOCKET). Without one, it listens on loopback TCP (tests, `docker run -p`).
    socket_path = os.environ.get("PAVED_SOCKET")
    where = (
        {"uds": socket_path}
        if socket_path
        else {"host": os.environ.get("PAVED_BIND", "127.0.0.1"), "port": int(os.environ.get("PAVED_PORT", "8080"))}
    )
    config = uvicorn.Config(
        create_app(package),
        **where,
        log_config=None,
        access_log=False,
        server_header=False,
        # SIGTERM stops new connections at once and gives in-flight requests this long to finish;
        # keep it under the orchestrator's kill timeout (docker stop: 10 s).
        timeout_graceful_shutdown=int(os.environ.get("PAVED_GRACE_SECONDS", "8")),
        lifespan="on",
    )
    server = uvicorn.Server(config)

    def stop(signum, frame) -> None:
        server.should_exit = True

    # uvicorn drains, restores the previous handlers, then re-raises the signal it caught so the
    # process dies by it (exit 143). A drained shutdown is a clean one: make the re-raise land here
    # and exit 0, so the orchestrator does not report a crash on every rollout step.
    signal.signal(signal.SIGTERM, stop)
    server.run()
    # uvicorn.Server.run returns normally after a graceful SIGTERM; a failed startup leaves started False.
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
