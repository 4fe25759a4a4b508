"""A request line or header block over the limits is refused by the server (414 / 431,
problem+json) before the application or any token parsing sees it; one within the limits
reaches the application. Against a real uvicorn server, over raw sockets: only the server
shows what happens to the connection and how much it reads."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from gateway.server import MAX_HEADER_BYTES, MAX_REQUEST_TARGET_BYTES
from tests.core.live import served

# The limits are the server's, not the database's: SQLite is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def port(app: FastAPI) -> Iterator[int]:
    with served(app) as port:
        yield port


class RawResponse:
    def __init__(self, head: bytes, body: bytes) -> None:
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, value in (line.split(":", 1) for line in lines if line)
        }
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class RawConnection:
    """A socket that sends exactly the bytes given and reads responses one by one."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> RawResponse:
        while b"\r\n\r\n" not in self.buffer:
            self._read_more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        answer = RawResponse(head, b"")
        length = int(answer.headers["content-length"])
        while len(self.buffer) < length:
            self._read_more()
        answer.body, self.buffer = self.buffer[:length], self.buffer[length:]
        return answer

    def closed_by_server(self) -> bool:
        """True once the server ended the connection (EOF or reset) with nothing more sent."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def _read_more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def connection(port: int) -> Iterator[RawConnection]:
    connection = RawConnection(port)
    yield connection
    connection.close()


def _request(target: str = "/v1/health/live", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: gateway"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _assert_problem(answer: RawResponse, status: int, problem: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["connection"] == "close"
    assert answer.headers["api-version"]
    body = answer.json()
    assert body["status"] == status
    assert body["type"] == f"https://ketenpoort.nl/problems/{problem}"


def _bearer_of(length: int) -> dict[str, str]:
    return {"Authorization": "Bearer " + "a" * length}


def _fillers(count: int) -> dict[str, str]:
    """``count`` headers of 80 bytes each as the limit counts them (name, value, ': ', CRLF)."""
    return {f"X-Filler-{i:04d}": "v" * 63 for i in range(count)}


def test_an_oversized_header_block_is_431_and_the_connection_ends(
    connection: RawConnection,
) -> None:
    connection.send(_request(headers=_bearer_of(MAX_HEADER_BYTES)))
    answer = connection.response()
    _assert_problem(answer, 431, "request-header-fields-too-large")
    assert str(MAX_HEADER_BYTES) in answer.json()["detail"]
    assert connection.closed_by_server()


def test_a_long_token_within_the_header_limit_reaches_the_verifier_and_keeps_the_connection(
    connection: RawConnection,
) -> None:
    # Positive control: 9000 characters is over the verifier's 8192 but within the server's
    # header limit, so the application answers (401, from the size check) on a connection
    # that stays open for the next request.
    connection.send(_request("/v1/me", headers=_bearer_of(9000)))
    answer = connection.response()
    assert answer.status == 401, answer.body
    assert "longer than 8192 characters" in answer.json()["detail"]
    connection.send(_request())
    assert connection.response().status == 200


def test_many_small_headers_over_the_limit_are_431(connection: RawConnection) -> None:
    headers = _fillers(MAX_HEADER_BYTES // 80 + 1)
    connection.send(_request(headers=headers))
    _assert_problem(connection.response(), 431, "request-header-fields-too-large")


def test_many_small_headers_within_the_limit_reach_the_application(
    connection: RawConnection,
) -> None:
    headers = _fillers(MAX_HEADER_BYTES // 80 - 1)
    connection.send(_request(headers=headers))
    assert connection.response().status == 200


def test_an_oversized_request_target_is_414(connection: RawConnection) -> None:
    connection.send(_request("/v1/health/live?pad=" + "x" * MAX_REQUEST_TARGET_BYTES))
    answer = connection.response()
    _assert_problem(answer, 414, "uri-too-long")
    assert connection.closed_by_server()


def test_a_request_target_at_the_limit_reaches_the_application(
    connection: RawConnection,
) -> None:
    prefix = "/v1/health/live?pad="
    connection.send(_request(prefix + "x" * (MAX_REQUEST_TARGET_BYTES - len(prefix))))
    assert connection.response().status == 200


def test_a_request_target_one_byte_over_the_limit_is_414(connection: RawConnection) -> None:
    # The edge of the control above: one byte more is refused.
    prefix = "/v1/health/live?pad="
    connection.send(_request(prefix + "x" * (MAX_REQUEST_TARGET_BYTES - len(prefix) + 1)))
    _assert_problem(connection.response(), 414, "uri-too-long")


def test_a_header_that_never_ends_is_refused_while_it_streams_in(port: int) -> None:
    """50 MB of Authorization header (issue 17: parsed for 17 s, 370 MB, the liveness probe
    stalled). The server refuses after about the limit and reads no further than it must;
    the liveness probe answers meanwhile."""
    streamer = RawConnection(port)
    sent = 0
    stop = threading.Event()

    def stream() -> None:
        nonlocal sent
        try:
            streamer.send(b"GET /v1/me HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ")
            piece = b"a" * 65536
            while not stop.is_set() and sent < 50 * 1024 * 1024:
                streamer.send(piece)
                sent += len(piece)
        except OSError:
            pass  # the server closed the connection: what it should do

    thread = threading.Thread(target=stream)
    started = time.monotonic()
    thread.start()
    try:
        answer = streamer.response()
        _assert_problem(answer, 431, "request-header-fields-too-large")
        assert time.monotonic() - started < 10
        probe = RawConnection(port)
        probe_started = time.monotonic()
        probe.send(_request())
        assert probe.response().status == 200
        assert time.monotonic() - probe_started < 5
        probe.close()
    finally:
        stop.set()
        thread.join(timeout=30)
        streamer.close()
    assert not thread.is_alive()
    # The server read at most the limit, two reads and LINGER_BYTES; the rest of what was
    # sent sat in the sockets' buffers (5 MB here, Linux lets them grow to about 10 MB on
    # loopback) when the connection closed.
    assert sent < 20 * 1024 * 1024, sent


def test_a_pipelined_request_before_a_refused_head_is_answered_first(
    connection: RawConnection,
) -> None:
    connection.send(_request() + _request(headers=_bearer_of(MAX_HEADER_BYTES)))
    assert connection.response().status == 200
    _assert_problem(connection.response(), 431, "request-header-fields-too-large")
    assert connection.closed_by_server()
