"""A small Prometheus registry (counters, histograms) and the server's metrics."""

from __future__ import annotations

import bisect
import threading
import time

from aiohttp import web

from core.mediatypes import FILE_KINDS

# Label values come from a fixed set: a client's made-up method or file type must not add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FILE_TYPES = frozenset(FILE_KINDS)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = labels + extra
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in items) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        lines += [f"{self.name}{_labels(k)} {_number(v)}" for k, v in items]
        return lines


class Histogram:
    def __init__(
        self, name: str, help_text: str, buckets: tuple[float, ...] = LATENCY_BUCKETS
    ) -> None:
        self.name, self.help, self.buckets = name, help_text, buckets
        self._values: dict[Labels, tuple[list[int], float, int]] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts, total, n = self._values.get(key, ([0] * len(self.buckets), 0.0, 0))
            index = bisect.bisect_left(self.buckets, value)
            if index < len(counts):
                counts[index] += 1
            self._values[key] = (counts, total + value, n + 1)

    def count(self, **labels: str) -> int:
        return self._values.get(tuple(sorted(labels.items())), ([], 0.0, 0))[2]

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            items = sorted((k, (list(c), t, n)) for k, (c, t, n) in self._values.items())
        for key, (counts, total, n) in items:
            running = 0
            for bound, count in zip(self.buckets, counts, strict=True):
                running += count
                le = (("le", _number(bound)),)
                lines.append(f"{self.name}_bucket{_labels(key, le)} {running}")
            lines.append(f"{self.name}_bucket{_labels(key, (('le', '+Inf'),))} {n}")
            lines.append(f"{self.name}_sum{_labels(key)} {_number(total)}")
            lines.append(f"{self.name}_count{_labels(key)} {n}")
        return lines


class Metrics:
    """Everything /metrics reports."""

    def __init__(self) -> None:
        self.started = time.time()
        self.uploads = Counter(
            "mediadesk_uploads_total",
            "Uploads by flow, outcome (created, duplicate, rejected, failed) and file type",
        )
        self.validation_errors = Counter(
            "mediadesk_validation_errors_total", "Rejected uploads by file type and error code"
        )
        self.bandwidth = Counter(
            "mediadesk_bandwidth_bytes_total",
            "Media bytes by direction (in: received by uploads, out: sent by streams and "
            "downloads), flow and file type; uploads straight to the bucket count the object's "
            "size at confirm (flow presigned_bucket)",
        )
        self.bytes_served = Counter(
            "mediadesk_bytes_served_total", "Bytes of media sent to clients by file type"
        )
        self.presign_latency = Histogram(
            "mediadesk_presigned_url_seconds", "Time to create a presigned URL, by operation"
        )
        self.requests = Counter(
            "mediadesk_http_requests_total",
            "HTTP requests by method, route and status; nginx's check subrequests (behind nginx, "
            "MEDIADESK_ACCEL_REDIRECT) under method CHECK: their 403 means 'MediaDesk answers "
            "this one itself', not a refusal; status 499 (nginx's): the client closed the "
            "connection before the answer",
        )
        self.request_latency = Histogram(
            "mediadesk_http_request_duration_seconds",
            "Time until the response headers, by method and route",
        )
        self.auth_blocks = Counter(
            "mediadesk_auth_blocks_total",
            "Client addresses blocked for too many failed authentications (one per block)",
        )
        self.auth_blocks.inc(0)  # shown from the start: a dashboard's rate needs the zero
        self.sse_clients = 0

    def upload(self, flow: str, outcome: str, file_type: str, code: str | None = None) -> None:
        kind = file_type if file_type in FILE_TYPES else "unknown"
        self.uploads.inc(flow=flow, outcome=outcome, file_type=kind)
        if code:
            self.validation_errors.inc(code=code, file_type=kind)

    def received(self, flow: str, file_type: str, n: int) -> None:
        """Upload bytes: direct, tus, signed_put (local PUT) or presigned_bucket (at confirm)."""
        kind = file_type if file_type in FILE_TYPES else "unknown"
        self.bandwidth.inc(n, direction="in", flow=flow, file_type=kind)

    def sent(self, flow: str, file_type: str, n: int) -> None:
        """Media bytes sent: stream or download (a local signed GET)."""
        kind = file_type if file_type in FILE_TYPES else "unknown"
        self.bytes_served.inc(n, file_type=kind)
        self.bandwidth.inc(n, direction="out", flow=flow, file_type=kind)

    def render(self) -> str:
        lines: list[str] = []
        for metric in (
            self.uploads,
            self.validation_errors,
            self.bytes_served,
            self.bandwidth,
            self.presign_latency,
            self.requests,
            self.request_latency,
            self.auth_blocks,
        ):
            lines += metric.render()
        lines += [
            "# HELP mediadesk_sse_clients Connected server-sent-event clients",
            "# TYPE mediadesk_sse_clients gauge",
            f"mediadesk_sse_clients {self.sse_clients}",
            "# HELP mediadesk_start_time_seconds When the server started",
            "# TYPE mediadesk_start_time_seconds gauge",
            f"mediadesk_start_time_seconds {_number(round(self.started, 3))}",
        ]
        return "\n".join(lines) + "\n"


def method_label(request: web.Request, check: bool = False) -> str:
    """`check`: the request is nginx's check subrequest (server/streaming.py answers it)."""
    if check:
        return "CHECK"
    return request.method if request.method in METHODS else "other"


def route_label(request: web.Request) -> str:
    route = request.match_info.route
    if request.match_info.http_exception is not None or route.resource is None:
        return "unmatched"
    return route.resource.canonical
