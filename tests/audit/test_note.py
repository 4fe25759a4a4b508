"""audit/note.py against vectors published by other implementations of the C2SP formats: the
Go sumdb/note example (golang.org/x/mod, signed byte for byte: Ed25519 is deterministic) and a
real witnessed checkpoint of a staging CT log (the log's Ed25519 note signature and the
remora.n621.de witness's tlog-cosignature/v1)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Cosigner,
    NoteError,
    NoteSigner,
    join_note,
    parse_checkpoint,
    parse_vkey,
    split_note,
    verify_cosignature,
    verify_log_signature,
)

# golang.org/x/mod/sumdb/note, the package documentation's example.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# A checkpoint of a staging CT log with witness cosignatures (two of its lines kept).
CT_TEXT = (
    "arche2025h1.staging.ct.transparency.dev\n1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
)
CT_NOTE = (
    CT_TEXT + "\n— arche2025h1.staging.ct.transparency.dev "
    "ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sX"
    "Tynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
)
CT_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
CT_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def go_signer() -> NoteSigner:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])
    return NoteSigner("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed[1:]))


def test_a_note_is_signed_byte_for_byte_as_go_signs_it() -> None:
    signer = go_signer()
    assert signer.verifier.vkey() == GO_VKEY
    assert join_note(GO_TEXT, [signer.sign(GO_TEXT)]) == GO_NOTE


def test_the_go_note_verifies_and_a_changed_text_does_not() -> None:
    text, [line] = split_note(GO_NOTE)
    verifier = parse_vkey(GO_VKEY)
    assert text == GO_TEXT
    assert verify_log_signature(text, line, verifier)
    assert not verify_log_signature(text.replace("problem", "Problem"), line, verifier)


def test_a_real_witnessed_checkpoint_verifies() -> None:
    text, lines = split_note(CT_NOTE)
    checkpoint = parse_checkpoint(text)
    assert (checkpoint.origin, checkpoint.tree_size) == (
        "arche2025h1.staging.ct.transparency.dev",
        1432088532,
    )
    log, witness = parse_vkey(CT_LOG_VKEY), parse_vkey(CT_WITNESS_VKEY)
    assert witness.signature_type == COSIGNATURE_V1
    assert verify_log_signature(text, lines[0], log)
    timestamp = verify_cosignature(text, lines[1], witness)
    assert timestamp is not None
    assert timestamp > 1_700_000_000
    forged = text.replace("1432088532", "1432088531")
    assert verify_cosignature(forged, lines[1], witness) is None
    # The cosignature is not the log's signature, and the other way round.
    assert verify_cosignature(text, lines[0], witness) is None
    assert not verify_log_signature(text, lines[1], log)


def test_our_cosignature_verifies_with_its_vkey_and_commits_to_the_time() -> None:
    cosigner = Cosigner("witness.example/w1", Ed25519PrivateKey.generate())
    text = Checkpoint("example.com/log", 5, bytes(32), previous=3).text()
    line = cosigner.cosign(text, 1_700_000_000)
    verifier = parse_vkey(cosigner.verifier.vkey())
    assert verify_cosignature(text, line, verifier) == 1_700_000_000
    later = (1_700_000_001).to_bytes(8, "big")
    shifted = type(line)(line.name, line.key_id, later + line.signature[8:])
    assert verify_cosignature(text, shifted, verifier) is None


def test_a_checkpoint_round_trips_with_its_previous_line() -> None:
    checkpoint = Checkpoint("ketenpoort.example/audit", 20, bytes(range(32)), previous=7)
    assert checkpoint.text().splitlines()[3] == "previous 7"
    assert parse_checkpoint(checkpoint.text()) == checkpoint


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # key id does not match
        GO_VKEY.replace("PeterNeumann", "Peter Neumann"),
        GO_VKEY + "+x",
        "PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # type 0x02
    ],
)
def test_a_malformed_vkey_is_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(vkey)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n1\nAAAA\n",
        "origin\n1\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)
