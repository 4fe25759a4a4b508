"""Checkpoints held outside the log, checked with pinned keys: a witness's latest (fetched over
its HTTP interface) or one a partner kept from a receipt. A verifier compares the log with
them (:func:`audit.verify.verify_log`'s ``anchors``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from audit.note import (
    COSIGNATURE_V1,
    NoteError,
    Verifier,
    parse_checkpoint,
    parse_vkey,
    split_note,
    verify_cosignature,
    verify_log_signature,
)
from audit.verify import Anchor


@dataclass(frozen=True)
class WitnessEndpoint:
    """A configured witness: its verifier key (pinned) and its submission URL prefix."""

    verifier: Verifier
    url: str

    @property
    def name(self) -> str:
        return self.verifier.name


def witness_endpoint(text: str) -> WitnessEndpoint:
    """``'<vkey> <URL>'`` (a witness's verifier key and its URL prefix)."""
    vkey, _, url = text.strip().partition(" ")
    verifier = parse_vkey(vkey)
    if verifier.signature_type != COSIGNATURE_V1:
        raise ValueError(f"{verifier.name}: a witness key has type 0x04 (cosignature)")
    if not url.strip().startswith(("http://", "https://")):
        raise ValueError(f"{verifier.name}: give the witness's URL after its key")
    return WitnessEndpoint(verifier, url.strip())


def anchor_from_note(
    signed_note: str,
    log_key: Verifier | Sequence[Verifier],
    *,
    source: str,
    witness: Verifier | None = None,
) -> Anchor:
    """A checkpoint held outside the log, checked: signed by the pinned log key (or, after key
    rotations, by one of the log's keys from :func:`audit.verify.key_chain`) and, when it
    comes from a witness, cosigned by that witness. Raises :class:`NoteError` otherwise."""
    keys = [log_key] if isinstance(log_key, Verifier) else list(log_key)
    text, lines = split_note(signed_note)
    checkpoint = parse_checkpoint(text)
    if checkpoint.origin != keys[0].name:
        raise NoteError(f"{source}: the checkpoint is of another log ({checkpoint.origin})")
    if not any(verify_log_signature(text, line, key) for line in lines for key in keys):
        raise NoteError(f"{source}: the checkpoint is not signed by the pinned log key")
    if witness is not None and not any(
        verify_cosignature(text, line, witness) is not None for line in lines
    ):
        raise NoteError(f"{source}: the checkpoint carries no valid cosignature of the witness")
    return Anchor(
        checkpoint.tree_size,
        checkpoint.root_hash,
        source,
        witness.name if witness is not None else None,
    )


def fetch_witness_anchor(
    witness: WitnessEndpoint, log_key: Verifier | Sequence[Verifier], http: httpx.Client
) -> Anchor | None:
    """The latest checkpoint ``witness`` cosigned for the log (``None``: it holds none)."""
    origin = log_key.name if isinstance(log_key, Verifier) else log_key[0].name
    response = http.get(witness.url.rstrip("/") + "/checkpoint", params={"origin": origin})
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return anchor_from_note(
        response.text, log_key, source=f"witness {witness.name}", witness=witness.verifier
    )
