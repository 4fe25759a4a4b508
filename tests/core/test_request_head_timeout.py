"""A request's head must arrive within HEAD_TIMEOUT_SECONDS of the connection's start or of
the request's first byte; past it the server answers 408 problem+json (or, when nothing was
sent, just closes). uvicorn has no such timeout: a connection that sent nothing, or trickled
its head a line a second, was held for as long as the client liked ("slowloris"). Once the
head is in, the timeout is over: a slow application and a kept-alive connection between
requests are not affected. Against a real uvicorn server, over raw sockets, with the timeout
shortened to one second."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest

import gateway.server
from tests.core.live import served
from tests.core.test_request_head_limits import RawConnection, _assert_problem
from tests.core.test_request_trailer_limits import _echo_length

TIMEOUT = 1.0


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(gateway.server, "HEAD_TIMEOUT_SECONDS", TIMEOUT)
    with served(_echo_length) as port:  # type: ignore[arg-type]
        yield port


@pytest.fixture
def connection(port: int) -> Iterator[RawConnection]:
    connection = RawConnection(port)
    yield connection
    connection.close()


def _trickle(connection: RawConnection, target: str, lines: int, pause: float) -> None:
    connection.send(f"GET {target} HTTP/1.1\r\nHost: gateway\r\n".encode())
    for i in range(lines):
        time.sleep(pause)
        connection.send(b"X-Line-%d: 1\r\n" % i)
    connection.send(b"\r\n")


def test_a_head_trickled_past_the_timeout_is_408_and_the_connection_ends(
    connection: RawConnection,
) -> None:
    started = time.monotonic()
    # The server may end the connection while the head still trickles in.
    with contextlib.suppress(OSError):
        _trickle(connection, "/", lines=8, pause=0.25)
    answer = connection.response()
    _assert_problem(answer, 408, "request-timeout")
    assert time.monotonic() - started < 5
    assert connection.closed_by_server()


def test_a_connection_that_sends_nothing_is_closed(connection: RawConnection) -> None:
    started = time.monotonic()
    assert connection.closed_by_server()  # EOF, no answer
    assert TIMEOUT - 0.2 < time.monotonic() - started < 5


def test_a_slow_head_within_the_timeout_and_requests_after_it_are_answered(
    connection: RawConnection,
) -> None:
    # Positive control: the head takes 0.6 s of the 1 s; the application takes 1.5 s (past
    # the timeout: it is the head's only); the connection then idles 1.5 s between requests
    # (also past it) and its next request is answered on it.
    _trickle(connection, "/slow", lines=3, pause=0.2)
    assert connection.response().status == 200
    time.sleep(1.5)
    connection.send(b"GET / HTTP/1.1\r\nHost: gateway\r\n\r\n")
    assert connection.response().status == 200
