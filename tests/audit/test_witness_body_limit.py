"""The witness refuses a body over its 64 KiB limit while it streams in, never holding more
(review6a, finding 3: ``await request.body()`` buffered any body before the check, so
anyone who could reach a witness, which must be reachable by the gateway, could exhaust its
memory). A declared ``Content-Length`` over the limit is refused unread; a chunked body is
refused once it passes the limit. Both are 413 and the connection is closed. The positive
control: a valid add-checkpoint, and one of exactly the limit's size, are read whole."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.audit.witness import (
    MAX_BODY,
    Witness,
    WitnessState,
    load_cosigner,
    witness_app,
)
from gateway.audit.witnessing import add_checkpoint_body
from tests.audit.test_witness import LOG, directory, proof, serve, signed  # noqa: F401

SIZE = 64 * 1024 * 1024  # 1000 times the limit


def _chunks(total: int = SIZE, size: int = 1024 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"A" * size


def _post_streamed(app: Any, chunks: Iterator[bytes]) -> tuple[int, dict[str, str], int]:
    """POST /add-checkpoint to the ASGI app as a server streams a chunked body: one message
    per chunk, as it arrives. The status, the headers, and the body bytes the app took."""
    taken = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal taken
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/add-checkpoint",
        "raw_path": b"/add-checkpoint",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"witness"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8009),
    }
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, taken


def test_a_chunked_body_over_the_limit_is_refused_as_it_streams(directory: Path) -> None:  # noqa: F811
    witness = Witness(load_cosigner(directory), WitnessState(directory / "state"), [LOG.verifier])
    status, headers, taken = _post_streamed(witness_app(witness), _chunks())
    assert status == 413
    assert headers["connection"] == "close"
    # It stopped reading one chunk past the limit: not the 64 MiB sent.
    assert taken <= MAX_BODY + 1024 * 1024, taken
    # The positive control: a valid checkpoint, streamed the same way, is read whole.
    body = add_checkpoint_body(0, [], signed(10))
    status, _, taken = _post_streamed(witness_app(witness), iter([body[:10], body[10:]]))
    assert (status, taken) == (200, len(body))


def test_a_declared_length_over_the_limit_is_refused_unread(directory: Path) -> None:  # noqa: F811
    _, client = serve(directory)
    over = client.post("/add-checkpoint", content=b"A" * (MAX_BODY + 1))
    assert over.status_code == 413
    odd = client.post("/add-checkpoint", content=b"A", headers={"Content-Length": "1x"})
    assert odd.status_code in (400, 413)  # a malformed length: never read


def test_a_valid_checkpoint_and_a_body_at_the_limit_are_read_whole(directory: Path) -> None:  # noqa: F811
    witness, client = serve(directory)
    body = add_checkpoint_body(0, [], signed(10))
    cosigned = client.post("/add-checkpoint", content=body)
    assert cosigned.status_code == 200, cosigned.text
    longer = add_checkpoint_body(10, proof(10, 25), signed(25))
    streamed = client.post("/add-checkpoint", content=iter([longer[:10], longer[10:]]))
    assert streamed.status_code == 200, streamed.text  # chunked: read whole, cosigned
    at_limit = client.post("/add-checkpoint", content=b"A" * MAX_BODY)
    assert at_limit.status_code == 400  # read whole and parsed: malformed, not too large
    assert "too large" not in at_limit.text
    assert witness.latest("log.example/audit").status == 200
