"""The witness (``ketenpoort witness serve``) speaks C2SP tlog-witness: it cosigns a checkpoint
only when it is signed by a log key it knows and provably extends the one it holds, answers
with the statuses the protocol names, and keeps its state across restarts."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from audit.merkle import LeafListReader, consistency_proof, leaf_hash, root_of
from audit.note import Checkpoint, NoteSigner, join_note, parse_signature_line, verify_cosignature
from gateway.audit.witness import (
    SIZE_CONTENT_TYPE,
    Witness,
    WitnessSetupError,
    WitnessState,
    init_witness,
    load_cosigner,
    witness_app,
)
from gateway.audit.witnessing import add_checkpoint_body

ORIGIN = "log.example/audit"
LEAVES = [leaf_hash(b"entry %d" % i) for i in range(40)]
LOG = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


def signed(size: int, *, signer: NoteSigner = LOG, leaves: list[bytes] = LEAVES) -> str:
    text = Checkpoint(ORIGIN, size, root_of(leaves[:size])).text()
    return join_note(text, [signer.sign(text)])


def proof(old: int, new: int, leaves: list[bytes] = LEAVES) -> list[bytes]:
    return consistency_proof(LeafListReader(leaves), old, new) if 0 < old < new else []


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    init_witness(tmp_path / "witness", "witness.example/w1")
    return tmp_path / "witness"


def serve(directory: Path) -> tuple[Witness, TestClient]:
    witness = Witness(load_cosigner(directory), WitnessState(directory / "state"), [LOG.verifier])
    return witness, TestClient(witness_app(witness))


def test_the_first_checkpoint_is_cosigned_and_the_cosignature_verifies(directory: Path) -> None:
    witness, client = serve(directory)
    response = client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(10)))
    assert response.status_code == 200
    line = parse_signature_line(response.text)
    text = Checkpoint(ORIGIN, 10, root_of(LEAVES[:10])).text()
    assert verify_cosignature(text, line, witness.cosigner.verifier) is not None


def test_a_consistent_extension_is_cosigned_and_held(directory: Path) -> None:
    _, client = serve(directory)
    first = client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(10)))
    assert first.status_code == 200
    grown = client.post(
        "/add-checkpoint", content=add_checkpoint_body(10, proof(10, 25), signed(25))
    )
    assert grown.status_code == 200
    held = client.get("/checkpoint", params={"origin": ORIGIN})
    assert held.status_code == 200
    assert held.text.startswith(f"{ORIGIN}\n25\n")


def test_a_wrong_old_size_gets_409_with_the_size_held(directory: Path) -> None:
    _, client = serve(directory)
    client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(10)))
    response = client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(12)))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(SIZE_CONTENT_TYPE)
    assert response.text == "10\n"


def test_a_rewritten_history_is_refused_with_422(directory: Path) -> None:
    """Entry 3 rewritten: the log (key and all) signs a tree of 25 that does not extend the 10
    the witness holds; no proof from 10 can lead there."""
    _, client = serve(directory)
    client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(10)))
    rewritten = list(LEAVES)
    rewritten[3] = leaf_hash(b"entry 3, rewritten")
    body = add_checkpoint_body(10, proof(10, 25, rewritten), signed(25, leaves=rewritten))
    response = client.post("/add-checkpoint", content=body)
    assert response.status_code == 422
    held = client.get("/checkpoint", params={"origin": ORIGIN})
    assert held.text.startswith(f"{ORIGIN}\n10\n")  # unchanged


def test_the_same_size_with_another_root_is_a_conflict(directory: Path) -> None:
    _, client = serve(directory)
    client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(10)))
    other = list(LEAVES)
    other[0] = leaf_hash(b"other")
    response = client.post(
        "/add-checkpoint", content=add_checkpoint_body(10, [], signed(10, leaves=other))
    )
    assert response.status_code == 409


def test_an_unknown_key_or_origin_or_malformed_request_is_refused(directory: Path) -> None:
    _, client = serve(directory)
    stranger = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    assert (
        client.post(
            "/add-checkpoint", content=add_checkpoint_body(0, [], signed(10, signer=stranger))
        ).status_code
        == 403
    )
    other_log = NoteSigner("other.example/log", Ed25519PrivateKey.generate())
    text = Checkpoint("other.example/log", 1, LEAVES[0]).text()
    other = add_checkpoint_body(0, [], join_note(text, [other_log.sign(text)]))
    assert client.post("/add-checkpoint", content=other).status_code == 404
    malformed = b"old x\n\n" + signed(10).encode()
    assert client.post("/add-checkpoint", content=malformed).status_code == 400
    too_old = add_checkpoint_body(11, [], signed(10))
    assert client.post("/add-checkpoint", content=too_old).status_code == 400
    # Nothing was stored by any of them.
    assert client.get("/checkpoint", params={"origin": ORIGIN}).status_code == 404


def test_the_state_survives_a_restart(directory: Path) -> None:
    _, client = serve(directory)
    client.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(10)))
    _, restarted = serve(directory)
    response = restarted.post("/add-checkpoint", content=add_checkpoint_body(0, [], signed(12)))
    assert response.status_code == 409
    assert response.text == "10\n"


def test_a_witness_never_creates_or_replaces_its_key_silently(tmp_path: Path) -> None:
    with pytest.raises(WitnessSetupError, match="not a witness directory"):
        load_cosigner(tmp_path / "nowhere")
    first = init_witness(tmp_path / "w", "witness.example/w1")
    with pytest.raises(WitnessSetupError, match="never replaced"):
        init_witness(tmp_path / "w", "witness.example/w1")
    assert load_cosigner(tmp_path / "w").verifier.vkey() == first.verifier.vkey()
    assert (tmp_path / "w" / "witness-key.pem").stat().st_mode & 0o777 == 0o600


def test_the_root_line_is_base64_of_the_rfc6962_root() -> None:
    text = Checkpoint(ORIGIN, 3, root_of(LEAVES[:3])).text()
    assert text.split("\n")[2] == base64.b64encode(root_of(LEAVES[:3])).decode()
