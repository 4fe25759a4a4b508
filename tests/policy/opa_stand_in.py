"""An HTTP server on 127.0.0.1 that stands in for the production OPA server.

It answers ``POST /v1/data/ketenpoort/authz/decision`` as OPA's REST API does
(``{"result": ...}``), deciding with OPA's own Go evaluator on the test bundle (the same
covenants and modules as the gateway's, hence the same revision); or, for the time-limit
tests, it accepts and never answers (``hang``) or trickles the start of an answer one byte at
a time (``trickle``). Raw sockets, so the misbehaving answers are exactly that.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gateway.policy.engine import DECISION_RULE
from gateway.policy.opa_go import OpaGo, Undefined
from tests.policy.conftest import BUNDLE, require_engine

BEHAVIOURS = ("answer", "hang", "trickle")


class _Handler(socketserver.BaseRequestHandler):
    server: OpaStandIn

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(5)
        body = _read_request(connection)
        if body is None:
            return
        with self.server.lock:
            self.server.requests += 1
        if self.server.behaviour == "hang":
            self.server.stop.wait(5)
        elif self.server.behaviour == "trickle":
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
                if self.server.stop.wait(0.02):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up
        else:
            answer = json.dumps(self.server.decide(json.loads(body)["input"])).encode()
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
                + answer
            )


def _read_request(connection: socket.socket) -> bytes | None:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    return body


class OpaStandIn(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: str) -> None:
        assert behaviour in BEHAVIOURS
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.requests = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._opa: OpaGo | None = None
        #: Applied to each decision document before it is sent (``answer``): a test's way to
        #: make OPA answer something the policy cannot (tests/exchange/
        #: test_engine_answers_checked.py).
        self.change: Callable[[dict[str, Any]], None] | None = None
        if behaviour == "answer":
            # Compiled and prepared before the first request, as a running OPA server is.
            self._opa = OpaGo(BUNDLE.modules, BUNDLE.data)
            self._opa.rule(DECISION_RULE, {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def decide(self, document: Any) -> dict[str, Any]:
        opa = self._opa
        assert opa is not None
        try:
            result = opa.rule(DECISION_RULE, document)
        except Undefined:
            return {}  # as OPA: no "result" for an undefined document
        change = self.change
        if change is not None and isinstance(result, dict):
            change(result)
        return {"result": result}


@contextmanager
def opa_stand_in(behaviour: str) -> Iterator[OpaStandIn]:
    if behaviour == "answer":
        require_engine("opa-go")
    server = OpaStandIn(behaviour)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
