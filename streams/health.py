"""What /livez and /readyz answer, and the HTTP server that also serves /metrics.

The event loop writes the facts (a heartbeat, the group state, the last broker probe);
the server's threads only read them. So a blocked event loop shows as a stale heartbeat
instead of a health check that cannot answer, and nothing here imports Faust.

- live: the event loop ticked recently and no agent is crashed. Kubernetes restarts the
  pod when this fails, so it checks only what a restart cures.
- ready: live, the group assigned this worker its partitions (possibly none, when there
  are more workers than partitions), its tables are recovered, and the broker answered the
  last metadata request. Until then the worker's output lags the input.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

log = logging.getLogger(__name__)

STALE_AFTER = 30.0  # seconds without a heartbeat before the loop counts as stuck


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checks: tuple[tuple[bool, str], ...]

    @classmethod
    def of(cls, checks: list[tuple[bool, str]]) -> Verdict:
        return cls(all(ok for ok, _ in checks), tuple(checks))

    def text(self) -> str:
        lines = [f"[{'+' if ok else '-'}] {what}" for ok, what in self.checks]
        return "\n".join([*lines, "ok" if self.ok else "failed", ""])


@dataclass
class Health:
    clock: Callable[[], float] = time.monotonic
    stale_after: float = STALE_AFTER
    beat_at: float | None = None
    crashed: tuple[str, ...] = ()
    assigned: bool = False
    recovered: bool = False
    partitions: int = 0
    broker_ok: bool = False
    broker_detail: str = "not probed yet"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def beat(self, crashed: Iterable[str]) -> None:
        with self._lock:
            self.beat_at, self.crashed = self.clock(), tuple(crashed)

    def group(self, *, assigned: bool, recovered: bool, partitions: int) -> None:
        with self._lock:
            self.assigned, self.recovered, self.partitions = assigned, recovered, partitions

    def broker(self, ok: bool, detail: str) -> None:
        with self._lock:
            self.broker_ok, self.broker_detail = ok, detail

    def live(self) -> Verdict:
        with self._lock:
            return Verdict.of(self._live_checks())

    def ready(self) -> Verdict:
        with self._lock:
            return Verdict.of([
                *self._live_checks(),
                (self.assigned, f"partitions assigned ({self.partitions})" if self.assigned
                 else "waiting for the group to assign partitions"),
                (self.recovered, "tables recovered" if self.recovered
                 else "recovering tables from their changelogs"),
                (self.broker_ok, f"broker: {self.broker_detail}"),
            ])

    def _live_checks(self) -> list[tuple[bool, str]]:
        if self.beat_at is None:
            beat = (False, "event loop not started")
        else:
            age = self.clock() - self.beat_at
            beat = (age <= self.stale_after, f"event loop ticked {age:.1f} s ago")
        agents = (not self.crashed, "agents running" if not self.crashed
                  else f"agents crashed: {', '.join(self.crashed)}")
        return [beat, agents]


_INDEX = b"churnwatch worker: /metrics /livez /readyz\n"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(registry: CollectorRegistry, health: Health) -> WSGIApp:
    """/metrics, /livez and /readyz (200 or 503, the checks as text), 404 elsewhere."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            result: Iterable[bytes] = metrics(environ, start_response)
            return result
        if path in ("/livez", "/readyz"):
            verdict = health.live() if path == "/livez" else health.ready()
            body = verdict.text().encode()
            status = "200 OK" if verdict.ok else "503 Service Unavailable"
        elif path == "/":
            body, status = _INDEX, "200 OK"
        else:
            body, status = b"not found; try /metrics, /livez or /readyz\n", "404 Not Found"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                ("Content-Length", str(len(body)))])
        return [body]

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log."""


def serve(host: str, port: int, registry: CollectorRegistry, health: Health) -> _Server:
    """Serve in a daemon thread; returns the server (``shutdown()`` stops it)."""
    server = make_server(host, port, wsgi_app(registry, health), server_class=_Server,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="churnwatch-http", daemon=True).start()
    log.info("metrics and health on http://%s:%d/ (/metrics /livez /readyz)", host,
             server.server_port)
    return server
