"""The head limit also bounds what a request sends after its head without being body: the
trailer fields of a chunked body (RFC 9112 §7.1.2). httptools collects a trailer field like a
header, in memory until it ends; before they were counted, one endless trailer field grew the
server by the megabytes it was sent (64 MB sent: +120 MB resident), the issue 17 attack behind
a chunked body. And a pipelined request is not refused for the body of the one before it; a
request that is not HTTP/1.1 is answered 400 problem+json, after any before it.

Against a real uvicorn server with the gateway's protocol, over raw sockets (as
test_request_head_limits.py), serving a small ASGI application that reads the body or not:
the server's behaviour is what is tested, not the gateway's routes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.server import MAX_HEADER_BYTES
from tests.core.live import served
from tests.core.test_request_head_limits import RawConnection, _assert_problem

_PIECE = b"a" * 65536
_ENOUGH = 50 * 1024 * 1024


async def _echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``POST /read`` reads the whole body and answers its length (``PUT /read``: the
    request's header names, once the body is read); ``/slow`` answers after
    1.5 s; anything else answers at once without reading the body."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(1.5)
    length = 0
    if scope["path"] == "/read":
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            length += len(message.get("body", b""))
            if not message.get("more_body"):
                break
    body = str(length).encode()
    if scope["path"] == "/read" and scope["method"] == "PUT":  # the header names it saw
        body = b",".join(sorted(name for name, _ in scope["headers"]))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def port() -> Iterator[int]:
    with served(_echo_length) as port:  # type: ignore[arg-type]
        yield port


def _chunked_head(target: str) -> bytes:
    return (
        f"POST {target} HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()


def _stream_endless_trailer(port: int, target: str) -> tuple[RawConnection, Any, Any]:
    """A chunked body of five bytes whose trailer field never ends, sent from a thread until
    the server stops reading or 50 MB went out; returns the connection, the thread and a
    function giving the bytes sent."""
    connection = RawConnection(port)
    sent = 0
    stop = threading.Event()

    def stream() -> None:
        nonlocal sent
        try:
            connection.send(_chunked_head(target) + b"5\r\nhello\r\n0\r\nX-Trailer: ")
            while not stop.is_set() and sent < _ENOUGH:
                connection.send(_PIECE)
                sent += len(_PIECE)
        except OSError:
            pass  # the server ended the connection: what it should do

    thread = threading.Thread(target=stream)
    thread.start()
    thread.stop = stop  # type: ignore[attr-defined]
    return connection, thread, lambda: sent


def _finish(connection: RawConnection, thread: Any) -> None:
    """Stop the stream. What it sent after the answer is read and dropped for the server's
    LINGER_SECONDS; on loopback that can be the rest of the 50 MB, so the tests compare what
    was sent by the time the answer came."""
    thread.stop.set()
    thread.join(timeout=30)
    connection.close()
    assert not thread.is_alive()


def test_an_endless_trailer_of_a_body_being_read_is_431(port: int) -> None:
    started = time.monotonic()
    connection, thread, sent = _stream_endless_trailer(port, "/read")
    try:
        answer = connection.response()
        sent_by_the_answer = sent()
        _assert_problem(answer, 431, "request-header-fields-too-large")
        assert time.monotonic() - started < 10
        assert connection.closed_by_server()
    finally:
        _finish(connection, thread)
    assert sent_by_the_answer < _ENOUGH  # refused while it streamed in


def test_an_endless_trailer_after_the_answer_ends_the_connection(port: int) -> None:
    # The application answered without reading the body; the parser still reads it.
    connection, thread, sent = _stream_endless_trailer(port, "/no-read")
    try:
        assert connection.response().status == 200
        assert connection.closed_by_server()
        sent_by_the_close = sent()
    finally:
        _finish(connection, thread)
    assert sent_by_the_close < _ENOUGH  # ended while it streamed in


def test_many_small_trailer_fields_over_the_limit_are_431(port: int) -> None:
    connection = RawConnection(port)
    try:
        trailers = b"".join(b"X-T-%05d: %s\r\n" % (i, b"v" * 64) for i in range(500))
        assert len(trailers) > MAX_HEADER_BYTES
        connection.send(_chunked_head("/read") + b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n")
        _assert_problem(connection.response(), 431, "request-header-fields-too-large")
    finally:
        connection.close()


def test_a_chunked_body_with_a_small_trailer_is_read_and_the_connection_kept(
    port: int,
) -> None:
    # Positive control: 200 KB in chunks of 1000 bytes and a trailer field, twice on one
    # connection; the body is no part of the head, whatever the chunks.
    connection = RawConnection(port)
    try:
        chunks = b"".join(b"3e8\r\n" + b"b" * 1000 + b"\r\n" for _ in range(200))
        for _ in range(2):
            connection.send(_chunked_head("/read") + chunks + b"0\r\nX-Checksum: 1\r\n\r\n")
            answer = connection.response()
            assert answer.status == 200
            assert answer.body == b"200000"
    finally:
        connection.close()


def test_a_chunk_size_line_read_with_the_data_before_it_does_not_count_as_head(
    port: int,
) -> None:
    # Each read ends just after a chunk-size line, so every read but the first holds the
    # previous chunk's data and the next size line: body, however the reads fall.
    connection = RawConnection(port)
    try:
        connection.send(_chunked_head("/read") + b"4000\r\n")
        for _ in range(4):
            time.sleep(0.05)
            connection.send(b"c" * 0x4000 + b"\r\n4000\r\n")
        time.sleep(0.05)
        connection.send(b"c" * 0x4000 + b"\r\n0\r\n\r\n")
        answer = connection.response()
        assert answer.status == 200, answer.body
        assert answer.body == str(5 * 0x4000).encode()
    finally:
        connection.close()


def test_a_body_read_between_two_heads_does_not_count_for_the_second(port: int) -> None:
    # One read holds the end of a head, a 40 KB body and the start of the next request's
    # head: the body is no part of either head.
    connection = RawConnection(port)
    body = b"d" * 40_000
    try:
        connection.send(b"POST /read HTTP/1.1\r\nHost: gateway\r\nX-Slow: 1")
        time.sleep(0.1)
        connection.send(
            f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
            + b"GET /no-read HTTP/1.1\r\nHost: gateway\r\nX-Next: 1"
        )
        time.sleep(0.1)
        connection.send(b"\r\n\r\n")
        first = connection.response()
        assert first.status == 200
        assert first.body == b"40000"
        second = connection.response()
        assert second.status == 200, second.body
    finally:
        connection.close()


def test_a_folded_header_line_is_400_problem_json(port: int) -> None:
    # obs-fold (RFC 9112 §5.2) is refused by the parser; the answer is problem+json like
    # every other refusal (it was uvicorn's text/plain). Control: the same header unfolded.
    connection = RawConnection(port)
    try:
        connection.send(b"GET / HTTP/1.1\r\nHost: gateway\r\nX-Folded: a\r\n b\r\n\r\n")
        answer = connection.response()
        _assert_problem(answer, 400, "bad-request")
        assert connection.closed_by_server()
    finally:
        connection.close()
    control = RawConnection(port)
    try:
        control.send(b"GET / HTTP/1.1\r\nHost: gateway\r\nX-Folded: a b\r\n\r\n")
        assert control.response().status == 200
    finally:
        control.close()


def test_a_malformed_chunk_of_a_body_being_read_is_400_not_a_wait(port: int) -> None:
    connection = RawConnection(port)
    try:
        connection.send(_chunked_head("/read") + b"5\r\nhello\r\nzz\r\n")
        _assert_problem(connection.response(), 400, "bad-request")
        assert connection.closed_by_server()
    finally:
        connection.close()


def test_a_pipelined_malformed_request_is_answered_after_the_one_before_it(port: int) -> None:
    # The 400 follows the slow request's answer instead of cutting into it.
    connection = RawConnection(port)
    try:
        connection.send(b"GET /slow HTTP/1.1\r\nHost: gateway\r\n\r\nNOT HTTP\r\n\r\n")
        first = connection.response()
        assert first.status == 200
        assert first.body == b"0"
        _assert_problem(connection.response(), 400, "bad-request")
    finally:
        connection.close()


def test_a_trailer_field_never_becomes_a_header_of_the_request(port: int) -> None:
    # Control: the same field in the head is a header.
    connection = RawConnection(port)
    try:
        connection.send(
            b"PUT /read HTTP/1.1\r\nHost: gateway\r\nX-Early: 1\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n5\r\nhello\r\n0\r\nX-Late: 1\r\nAuthorization: Bearer x\r\n\r\n"
        )
        answer = connection.response()
        assert answer.status == 200
        names = answer.body.split(b",")
        assert b"x-early" in names
        assert b"x-late" not in names
        assert b"authorization" not in names
    finally:
        connection.close()
