"""Prometheus metrics. Each app gets its own registry so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Tuned around the platform's default 200 ms p99 budget.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["route", "method", "status"]
        self.requests = Counter(
            "paved_http_requests_total", "HTTP requests by route template, method and status.",
            labels, registry=self.registry,
        )
        self.latency = Histogram(
            "paved_http_request_duration_seconds", "HTTP request latency by route template, method and status.",
            labels, buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.rows = Counter(
            "paved_inference_rows_total", "Rows scored by the model.", registry=self.registry,
        )
        self.model_info = Gauge(
            "paved_model_info", "The model this server serves (value is always 1).",
            ["name", "version", "platform"], registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method, str(status)).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
