"""How ``gongji serve`` runs the app under uvicorn: time limits and a connection cap.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 beyond
``limit_concurrency``, but it waits forever for a request head that arrives a byte at a time:
two hundred such clients ("slowloris") would hold two hundred connections indefinitely.
:class:`HeadTimeoutProtocol` closes a connection whose request line and headers have not all
arrived within :data:`HEAD_TIMEOUT_S` of the connection opening or of its first byte after the
previous answer; a request whose head has arrived is never cut.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TIMEOUT_S: Final = 10.0
KEEP_ALIVE_S: Final = 5
CONNECTIONS_MAX: Final = 1_000
"""Connections and tasks at once; beyond it uvicorn answers 503 at once instead of queueing."""
BACKLOG: Final = 2_048


class HeadTimeoutProtocol(HttpToolsProtocol):
    """httptools' protocol with a deadline on every request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._waiting_for_head():
            self._arm()
        super().data_received(data)
        if not self._waiting_for_head():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()


def server_options(host: str, port: int) -> dict[str, Any]:
    """uvicorn's options for ``gongji serve``, one process or several: the same limits."""
    return {
        "host": host,
        "port": port,
        "http": HeadTimeoutProtocol,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "limit_concurrency": CONNECTIONS_MAX,
        "backlog": BACKLOG,
        "proxy_headers": False,  # the app reads X-Forwarded-* itself, only when told to trust
        "log_level": "info",
    }


def server_config(app: Any, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``gongji serve`` (benchmarks and tests use it too)."""
    return uvicorn.Config(app, **(server_options(host, port) | overrides))
