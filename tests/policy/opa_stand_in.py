"""An HTTP server on 127.0.0.1 that stands in for the production OPA server.

It answers ``POST /v1/data/ketenpoort/authz/decision`` (and ``GET /health``) as OPA's REST API
does (``{"result": ...}``), and ``GET /v1/policies``, ``GET /v1/data/ketenpoort/covenants`` and
``GET /v1/data/ketenpoort/revision`` (what the gateway reads to know that OPA serves its
bundle), deciding with OPA's own Go evaluator on the test bundle (the same covenants, modules
and compiler as the gateway's, hence the same content and revision), or on another bundle a
test gives it (an older one OPA still serves, a tampered one); or, for the time-limit tests,
it accepts and never answers (``hang``) or trickles the start of an answer one byte at a time
(``trickle``): a decision or a health check, while those reads are answered in every
behaviour (so a decision that times out is one whose query hung, not one refused before it
was asked). Raw sockets, so the misbehaving answers are exactly that.

OPA's Go evaluator here always evaluates with strict builtin errors: a builtin that errors
fails the query, which a real server answers with HTTP 500 (as here) only when asked with
``?strict-builtin-errors=true``; without it the server makes the expression undefined and
decides on. So the stand-in refuses (400) a query without the parameter: it cannot stand in
for what the server does then (review9b F2).
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gateway.policy.bundle import Bundle
from gateway.policy.compiler import DATA_ROOT
from gateway.policy.engine import DECISION_RULE
from gateway.policy.opa_go import OpaGo, Undefined
from tests.policy.conftest import BUNDLE, require_engine

BEHAVIOURS = ("answer", "hang", "trickle")


class _Handler(socketserver.BaseRequestHandler):
    server: OpaStandIn

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(5)
        request = _read_request(connection)
        if request is None:
            return
        target, body = request
        with self.server.lock:
            self.server.requests += 1
            self.server.targets.append(target)
        path = urlsplit(target).path
        documents = self.server.documents  # a test may replace them while others read
        if path in documents:
            _send(connection, "200 OK", {"result": documents[path]})
        elif self.server.behaviour == "hang":
            self.server.stop.wait(5)
        elif self.server.behaviour == "trickle":
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
                if self.server.stop.wait(0.02):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up
        elif path == "/health":
            _send(connection, "200 OK", {})  # as OPA once its bundles are activated
        elif not _strict_builtin_errors(target):
            refusal = {"code": "invalid_parameter", "message": "strict builtin errors only"}
            _send(connection, "400 Bad Request", refusal)
        else:
            try:
                answer = self.server.decide(json.loads(body)["input"])
            # OpaError: a builtin's error; OPA answers it with 500 under strict builtin errors.
            except Exception as exc:  # noqa: BLE001 - opa_bindings raises its own OpaError
                error = {"code": "internal_error", "message": str(exc)}
                _send(connection, "500 Internal Server Error", error)
                return
            _send(connection, "200 OK", answer)


def _strict_builtin_errors(target: str) -> bool:
    """Whether the query asks for strict builtin errors, as OPA reads it (server.go
    ``getBoolParam``: a value "true" in any case)."""
    values = parse_qs(urlsplit(target).query).get("strict-builtin-errors", [])
    return any(value.lower() == "true" for value in values)


def _send(connection: socket.socket, status: str, document: Any) -> None:
    answer = json.dumps(document).encode()
    connection.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
        + answer
    )


def _read_request(connection: socket.socket) -> tuple[str, bytes] | None:
    """The request's target (path and query) and body."""
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
    target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
    return target, body


def served_documents(bundle: Bundle) -> dict[str, Any]:
    """What OPA's REST API reads out of ``bundle`` (GET): the modules with their text, named
    as OPA names a bundle's modules (after the bundle's path), the compiled covenants and
    the revision label."""
    return {
        "/v1/policies": [
            {"id": f"/bundles/bundle.tar.gz/{name}", "raw": text}
            for name, text in sorted(bundle.modules.items())
        ],
        f"/v1/data/{DATA_ROOT}/covenants": bundle.data[DATA_ROOT]["covenants"],
        f"/v1/data/{DATA_ROOT}/revision": bundle.data[DATA_ROOT]["revision"],
    }


class OpaStandIn(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: str, bundle: Bundle = BUNDLE) -> None:
        assert behaviour in BEHAVIOURS
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.requests = 0
        #: Each request's target (path and query), in order.
        self.targets: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._opa: OpaGo | None = None
        #: Applied to each decision document before it is sent (``answer``): a test's way to
        #: make OPA answer something the policy cannot (tests/exchange/
        #: test_engine_answers_checked.py).
        self.change: Callable[[dict[str, Any]], None] | None = None
        #: Applied to each input document before it is decided: a test's way to make a
        #: builtin in the policy error (an input the gateway itself never sends).
        self.change_input: Callable[[dict[str, Any]], None] | None = None
        self.documents = served_documents(bundle)
        if behaviour == "answer":
            # Compiled and prepared before the first request, as a running OPA server is.
            self._opa = OpaGo(bundle.modules, bundle.data)
            self._opa.rule(DECISION_RULE, {})

    def serve(self, bundle: Bundle) -> None:
        """From now on serve and decide by ``bundle``: OPA swapped its policy (restarted on
        another, say) between two of the gateway's reads."""
        opa = OpaGo(bundle.modules, bundle.data)
        opa.rule(DECISION_RULE, {})
        self._opa, self.documents = opa, served_documents(bundle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def decide(self, document: Any) -> dict[str, Any]:
        opa = self._opa
        assert opa is not None
        if self.change_input is not None and isinstance(document, dict):
            self.change_input(document)
        try:
            result = opa.rule(DECISION_RULE, document)
        except Undefined:
            return {}  # as OPA: no "result" for an undefined document
        change = self.change
        if change is not None and isinstance(result, dict):
            change(result)
        return {"result": result}


@contextmanager
def opa_stand_in(behaviour: str, bundle: Bundle = BUNDLE) -> Iterator[OpaStandIn]:
    """A stand-in serving ``bundle`` (the test bundle unless another is given: an OPA that
    still serves an older bundle, say)."""
    if behaviour == "answer":
        require_engine("opa-go")
    server = OpaStandIn(behaviour, bundle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
