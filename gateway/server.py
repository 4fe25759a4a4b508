"""How the gateway is served: the uvicorn options ``ketenpoort serve`` and the tests share, and
the HTTP/1.1 protocol that bounds a request's head before the application sees it.

uvicorn's httptools protocol has no limit on the request line or the header block: an
unauthenticated 50 MB ``Authorization`` header was parsed for 17 s, stalled the liveness probe
and took 370 MB (issue 17). :class:`BoundedHttpToolsProtocol` refuses a request target over
:data:`MAX_REQUEST_TARGET_BYTES` with 414 and a header block over :data:`MAX_HEADER_BYTES` with
431, both as problem+json, while the head is still arriving, and a head that takes longer than
:data:`HEAD_TIMEOUT_SECONDS` with 408 (uvicorn has no such timeout: a connection that sent
nothing, or a head a byte at a time, was held for as long as the client liked).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from gateway.core.headers import API_VERSION
from gateway.core.problem import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

#: The request target (path and query). Our paths are short and identifiers never travel in
#: a URL; 8 KiB is what Apache and nginx allow by default.
MAX_REQUEST_TARGET_BYTES = 8 * 1024
#: Every header name and value, plus 4 bytes each for ``: `` and CRLF. Room for the largest
#: token the verifier reads (8192 characters, so that one a little over that still gets its
#: 401 from the verifier), a trace context and the web pages' cookies.
MAX_HEADER_BYTES = 32 * 1024
#: After refusing, what the client still sends is read and dropped, for at most this long and
#: this many bytes, before the connection closes: closing with unread data would reset the
#: connection and the client could lose the answer (a "lingering close", as Apache and nginx
#: do). The byte bound keeps a client that sends on and on from holding the server's reads.
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024
#: From a connection's start, or a request's first byte, to the end of its head. A client
#: sends its head at once; one that trickles it, or opens connections and sends nothing,
#: would otherwise hold the server's connections for as long as it likes ("slowloris").
#: nginx's client_header_timeout is 60 s, Apache's 20 to 40 s.
HEAD_TIMEOUT_SECONDS = 30.0


_log = logging.getLogger("ketenpoort.server")


def run_workers(app: str, **options: Any) -> None:
    """``uvicorn.run(app, workers=n)`` for n > 1, with a supervisor that says why it replaces a
    worker (uvicorn logs only "Child process [N] died", also for one it killed)."""
    config = uvicorn.Config(app, **options)
    sock = config.bind_socket()
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C ends it quietly
        _ExplainingSupervisor(config, sockets=[sock]).run()


class _ExplainingSupervisor(Multiprocess):
    def keep_subprocess_alive(self) -> None:
        for worker in self.processes:
            if not isinstance(worker.is_alive, _ExplainedLiveness):
                worker.is_alive = _ExplainedLiveness(worker)  # type: ignore[method-assign]
        super().keep_subprocess_alive()


class _ExplainedLiveness:
    """uvicorn's ``Process.is_alive`` (the process runs and answers a ping in time), logging
    the reason when it does not: the supervisor then kills and replaces the worker."""

    def __init__(self, worker: Process) -> None:
        self.worker = worker

    def __call__(self, timeout: float = 5) -> bool:
        process = self.worker.process
        if not process.is_alive():
            _log.error(
                "worker [%s] exited with code %s; a new worker is started",
                process.pid,
                process.exitcode,
            )
            return False
        if self.worker.ping(timeout):
            return True
        _log.error(
            "worker [%s] did not answer the supervisor's ping within %g s (hung, or starved of "
            "CPU on a busy host): it is killed and a new worker is started; a busy host needs "
            "a longer --worker-timeout (KETENPOORT_WORKER_TIMEOUT_SECONDS)",
            process.pid,
            timeout,
        )
        return False


def uvicorn_options() -> dict[str, Any]:
    """Options every gateway server runs with (``ketenpoort serve``, tests' live servers)."""
    return {"proxy_headers": True, "http": "gateway.server:BoundedHttpToolsProtocol"}


def server_config(app: Any, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(app, **{**uvicorn_options(), **options})


class _HeadRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head.

    The request target is counted as httptools hands it over (span by span), each header when
    it is complete. A single header that never completes is caught by the bytes that arrive
    while the head is open: only reads that were head from their first to their last byte
    (no parser event but a target span or a header between them) are counted, so the count
    never exceeds the true head and a request within the limits is never refused; at most two
    reads (256 KiB each) more than the limit are parsed.

    The trailer fields of a chunked body (after its last, empty chunk) are collected by
    httptools like headers, so they count with the head they follow, the same way. Refused
    there, the request being answered never ends: its application is told the client left and
    the refusal answers it, unless the response has begun (then the connection just closes).

    A refused head ends the connection: where its next request would begin cannot be known
    without parsing what was refused. A request still being answered on the connection
    (pipelining) is answered first; the refusal follows it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = False
        self._target_bytes = 0
        self._header_bytes = 0
        self._streamed_head_bytes = 0
        self._refusal: _HeadRefused | None = None
        self._dropped_bytes = 0
        self._refusal_sent = False
        #: Between a request's head and the end of its message (body and trailer fields).
        self._in_body = False
        #: Bumped by every parser event that can end a head; a read during which it did not
        #: change was within one head (or one trailer section) throughout.
        self._events = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._refusal is not None or self.transport.is_closing():
            return
        if not self._head_open:
            # Nothing sent since the connection opened: nothing to answer.
            self.transport.close()
            return
        self._refuse(
            _HeadRefused(408, f"The request's head took longer than {HEAD_TIMEOUT_SECONDS:g} s.")
        )

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:  # refused: read and dropped until the connection closes
            self._dropped_bytes += len(data)
            if self._refusal_sent and self._dropped_bytes > LINGER_BYTES:
                self._close()
            return
        self._unset_keepalive_if_required()
        whole_chunk_in_head, events = self._head_open, self._events
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadRefused):
                self._refuse(exc.__context__)
                return
            self._invalid_request()
            return
        except httptools.HttpParserError:
            self._invalid_request()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if whole_chunk_in_head and self._head_open and events == self._events:
            self._streamed_head_bytes += len(data)
            if self._streamed_head_bytes > MAX_HEADER_BYTES:
                self._refuse(_header_block_too_large())

    def _invalid_request(self) -> None:
        # uvicorn's own 400 is text/plain and written at once, even in the middle of the
        # response to a request before it (pipelining); a refusal is problem+json, in turn.
        self._refuse(_HeadRefused(400, "The request is not valid HTTP/1.1 (RFC 9112)."))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._events += 1
        self._in_body = False
        self._head_open = True
        if self._head_timer is None:  # a request after the first on the connection
            self._start_head_timer()
        self._target_bytes = self._header_bytes = self._streamed_head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._target_bytes += len(url)
        if self._target_bytes > MAX_REQUEST_TARGET_BYTES:
            raise _HeadRefused(
                414, f"The request target is longer than {MAX_REQUEST_TARGET_BYTES} bytes."
            )
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _header_block_too_large()
        if self._in_body:
            # A trailer field: counted, then dropped. uvicorn would append it to the request's
            # header list while the application runs (RFC 9110 §6.5.1: never merged into the
            # header section), where it would pass for a header the client never sent as one.
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        self._events += 1
        self._head_open = False
        self._in_body = True
        super().on_headers_complete()

    def on_chunk_header(self) -> None:
        # A chunk's size line was read: its data follows, or after the last chunk the
        # trailer fields, which are head-like until on_chunk_complete.
        self._events += 1
        self._head_open = True

    def on_body(self, body: bytes) -> None:
        self._events += 1
        self._head_open = False
        super().on_body(body)

    def on_chunk_complete(self) -> None:
        self._events += 1
        self._head_open = False

    def on_message_complete(self) -> None:
        self._events += 1
        self._in_body = False
        super().on_message_complete()

    def _refuse(self, refusal: _HeadRefused) -> None:
        self._refusal = refusal
        self._head_open = False
        self.logger.warning("Request refused before the application: %s", refusal.detail)
        if self._in_body:
            self._refuse_in_body()
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # answered once the request in progress has been (on_response_complete)
        self._send_refusal()

    def _refuse_in_body(self) -> None:
        """Refused in the body or trailer fields of the request last parsed (``self.cycle``):
        its message never completes, so its application would wait for the rest forever."""
        cycle = self.cycle
        queued = [entry for entry in self.pipeline if entry[0] is cycle]
        if queued:  # not started: dropped, the refusal follows the requests before it
            self.pipeline.remove(queued[0])
            return
        if cycle is None or cycle.response_started:
            # Nothing to answer, or a response under way (or done) that the refusal cannot
            # follow as the answer to this request: the connection ends.
            self._refusal_sent = True
            if cycle is not None:
                cycle.disconnected = True
                cycle.message_event.set()
            self._linger_close()
            return
        cycle.disconnected = True  # its receive() says http.disconnect, its send() is a no-op
        cycle.message_event.set()
        self._send_refusal()

    def on_response_complete(self) -> None:
        if self._refusal is None:
            super().on_response_complete()
            return
        self.server_state.total_requests += 1
        if self.pipeline:  # requests parsed before the refused head are answered in order
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif not self._refusal_sent:
            self._send_refusal()

    def _send_refusal(self) -> None:
        assert self._refusal is not None
        self._refusal_sent = True
        if self.transport.is_closing():
            return
        self.transport.write(_problem_response(self._refusal.status, self._refusal.detail))
        self._linger_close()

    def _linger_close(self) -> None:
        """Close after LINGER_SECONDS of reading and dropping: what was written reaches the
        client instead of being lost to a reset."""
        if self.transport.is_closing():
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()  # keep draining what the client still sends
        self.loop.call_later(LINGER_SECONDS, self._close)

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def _header_block_too_large() -> _HeadRefused:
    return _HeadRefused(431, f"The request's header fields exceed {MAX_HEADER_BYTES} bytes.")


_TITLES = {
    400: "Bad request",
    408: "Request timeout",
    414: "URI too long",
    431: "Request header fields too large",
}


def _problem_response(status: int, detail: str) -> bytes:
    """The same problem+json the application gives (gateway/core/problem.py), written by the
    server itself: the application never sees a refused head."""
    title = _TITLES[status]
    body = json.dumps(
        {
            "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
        },
        separators=(",", ":"),
    ).encode()
    head = [
        STATUS_LINE[status],
        f"content-type: {PROBLEM_MEDIA_TYPE}\r\n".encode(),
        f"content-length: {len(body)}\r\n".encode(),
        f"api-version: {API_VERSION}\r\n".encode(),
        b"cache-control: no-store\r\n",
        b"connection: close\r\n",
        b"\r\n",
    ]
    return b"".join(head) + body
