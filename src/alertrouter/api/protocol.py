"""The HTTP connection layer under the handlers: malformed requests and slow clients.

Anyone who can connect can send bad bytes, stall in the headers or hang up: that is noise from
the network, not an error of ours. Each case is one info line (never the raw request text,
which may hold a credential: aiohttp's parser quotes the offending header line) and a count in
``alertrouter_http_protocol_errors_total{kind}``; the client gets a bare 4xx, never a 5xx.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from alertrouter.logs import get_logger, log_event
from alertrouter.metrics import Metrics

__all__ = ["ProtocolAwareRunner", "protocol_error_kind", "recorder"]

logger = get_logger(__name__)


def protocol_error_kind(exc: BaseException | None) -> str:
    """The counter's ``kind`` (one of metrics.HTTP_PROTOCOL_ERROR_KINDS) for a parser error.

    The C parser raises one class for most errors; its fixed reason phrase tells them apart.
    """
    if isinstance(exc, http_exceptions.LineTooLong):
        return "line_too_long"
    if isinstance(exc, http_exceptions.BadStatusLine | http_exceptions.InvalidURLError):
        return "bad_request_line"
    if isinstance(exc, http_exceptions.PayloadEncodingError):
        return "bad_framing"
    if isinstance(exc, http_exceptions.InvalidHeader):
        return "bad_header"
    if isinstance(exc, http_exceptions.HttpProcessingError):
        reason = exc.message.partition(":")[0].lower()
        if "pri/upgrade" in reason:
            return "http2"
        if any(word in reason for word in ("chunk", "content-length", "transfer-encoding")):
            return "bad_framing"
        if "header" in reason:
            return "bad_header"
    return "malformed"


Record = Callable[[str, str | None, BaseException | None], None]  # kind, peer, parser error


def recorder(metrics: Metrics) -> Record:
    """Count and log one protocol error: its kind, the peer and the error's class name.

    Never the error's text: aiohttp's quotes the offending request line, credentials and all.
    """

    def record(kind: str, peer: str | None, error: BaseException | None = None) -> None:
        metrics.http_protocol_errors.labels(kind).inc()
        name = type(error).__name__ if error is not None else None
        log_event(logger, logging.INFO, "http_protocol_error", kind=kind, peer=peer, error=name)

    return record


class _QuietRequestHandler(RequestHandler):
    """aiohttp's connection handler, with protocol errors counted and a header-read deadline."""

    def __init__(
        self, manager: web.Server, *, record: Record, header_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._record = record
        self._header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Bytes while the connection waits for a request are header bytes: a keep-alive
        # connection's next request gets the same deadline as the first.
        if self._header_deadline is None and self._waiter is not None:
            self._arm_header_deadline()
        requests = self._request_count
        super().data_received(data)
        if self._request_count != requests:
            self._disarm_header_deadline()  # a whole request head arrived (or a parse error)

    def _arm_header_deadline(self) -> None:
        if self._header_timeout > 0:
            self._header_deadline = self._loop.call_later(self._header_timeout, self._too_slow)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.transport is None:
            return
        peer = self.transport.get_extra_info("peername")
        self._record("header_timeout", str(peer[0]) if peer else None, None)
        self.force_close()  # closes the transport

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A bare answer that never quotes the request; protocol errors are one info line."""
        if status >= 500:
            # Not the parser: a handler escaped the middleware. A bug; its traceback matters.
            logger.error("http_internal_error", exc_info=exc)
        else:
            self._record(protocol_error_kind(exc), request.remote, exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was already started")  # as aiohttp does
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        response = web.Response(status=status, text=f"{status} {phrase}\n")
        response.force_close()
        return response


class _QuietServer(web.Server):
    """aiohttp's Server making ``_QuietRequestHandler`` connections."""

    def __init__(self, server: web.Server, record: Record, header_timeout: float) -> None:
        # aiohttp builds its Server in private code (Application._make_handler); take over
        # what it configured, so every aiohttp setting still applies.
        self._handler_kwargs: dict[str, Any] = dict(server._kwargs)
        super().__init__(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **self._handler_kwargs,
        )
        self._record = record
        self._header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return _QuietRequestHandler(
            self,
            loop=self._loop,
            record=self._record,
            header_timeout=self._header_timeout,
            **self._handler_kwargs,
        )


class ProtocolAwareRunner(web.AppRunner):
    """An AppRunner whose connections count protocol errors and time out slow headers."""

    def __init__(
        self, app: web.Application, *, metrics: Metrics, header_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self._record = recorder(metrics)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _QuietServer(server, self._record, self._header_timeout)
