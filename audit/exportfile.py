"""The offline export file an auditor verifies: JSON Lines, a header with the public key(s),
then every checkpoint (with its signed note's signature lines), then every entry as its exact
stored body (a string, so the bytes the leaf hash covers survive). Written by the gateway
(``ketenpoort audit export``), read here without it.

A file that is not such an export (a line that is not JSON, a record that is not an object, a
field of the wrong type, a checkpoint after the entries) is refused with :class:`ExportError`,
naming the line: whoever hands the auditor the file must not be able to make the verifier
crash instead of answering (review8b F3)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.keys import public_key_from_text
from audit.verify import StoredCheckpoint, StoredEntry

EXPORT_FORMAT = "ketenpoort-audit-export"


class ExportError(ValueError):
    """The file is not a readable Ketenpoort audit export (the message names the line)."""


def checkpoint_json(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    return {
        "type": "checkpoint",
        "treeSize": checkpoint.tree_size,
        "rootHash": checkpoint.root_hash.hex(),
        "signedAt": checkpoint.signed_at,
        "keyId": checkpoint.key_id,
        "note": checkpoint.note,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
        "signatures": list(checkpoint.signatures),
    }


def _record(line: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise ExportError(f"line {number}: not JSON") from None
    if not isinstance(record, dict):
        raise ExportError(f"line {number}: not a JSON object")
    return record


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not a size")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _checkpoint(record: dict[str, Any], number: int) -> StoredCheckpoint:
    try:
        signatures = record.get("signatures", [])
        if not isinstance(signatures, list):
            raise ValueError("signatures is not a list")
        return StoredCheckpoint(
            tree_size=_size(record["treeSize"]),
            root_hash=bytes.fromhex(_text(record["rootHash"])),
            signed_at=_text(record["signedAt"]),
            key_id=_text(record["keyId"]),
            note=_text(record["note"]),
            signature=base64.b64decode(_text(record["signature"]), validate=True),
            signatures=tuple(_text(line) for line in signatures),
        )
    except (KeyError, ValueError, TypeError, binascii.Error):
        raise ExportError(f"line {number}: not a valid checkpoint") from None


def _entry(record: dict[str, Any], number: int) -> StoredEntry:
    try:
        return StoredEntry(
            _size(record["index"]),
            bytes.fromhex(_text(record["leafHash"])),
            _text(record["body"]),
        )
    except (KeyError, ValueError, TypeError):
        raise ExportError(f"line {number}: not a valid entry") from None


def _public_keys(header: dict[str, Any]) -> list[Ed25519PublicKey]:
    listed = header.get("publicKeys", [])
    if not isinstance(listed, list):
        raise ExportError("line 1: publicKeys is not a list")
    keys = []
    for item in listed:
        try:
            keys.append(public_key_from_text(_text(item["publicKey"])))
        except (KeyError, ValueError, TypeError, UnsupportedAlgorithm):
            raise ExportError("line 1: not a valid public key in publicKeys") from None
    return keys


@dataclass
class ExportFile:
    tree_size: int
    public_keys: list[Ed25519PublicKey]
    checkpoints: list[StoredCheckpoint]
    path: Path

    def entries(self) -> Iterator[StoredEntry]:
        """The entries in file order; :class:`ExportError` at the first line that is not one
        (a checkpoint after the entries too: :func:`read_export` would not have seen it)."""
        number = 0
        try:
            with self.path.open(encoding="utf-8") as handle:
                seen_entry = False
                for number, line in enumerate(handle, start=1):
                    if number == 1 or not line.strip():
                        continue  # the header, a blank line
                    record = _record(line, number)
                    kind = record.get("type")
                    if kind == "entry":
                        seen_entry = True
                        yield _entry(record, number)
                    elif kind == "checkpoint" and seen_entry:
                        raise ExportError(
                            f"line {number}: a checkpoint after the entries (checkpoints come "
                            "first)"
                        )
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"after line {number}: {exc}") from None


def read_export(path: Path) -> ExportFile:
    """Read the header and checkpoints (entries are streamed later by :meth:`entries`).
    Raises :class:`ExportError` (a ``ValueError``) or ``OSError``."""
    checkpoints: list[StoredCheckpoint] = []
    try:
        with path.open(encoding="utf-8") as handle:
            header = _record(handle.readline() or "{}", 1)
            if header.get("type") != EXPORT_FORMAT:
                raise ExportError("not a Ketenpoort audit export")
            for number, line in enumerate(handle, start=2):
                if not line.strip():
                    continue
                record = _record(line, number)
                if record.get("type") == "entry":
                    break
                if record.get("type") == "checkpoint":
                    checkpoints.append(_checkpoint(record, number))
    except UnicodeDecodeError as exc:
        raise ExportError(f"not UTF-8 text ({exc.reason})") from None
    try:
        tree_size = _size(header.get("treeSize", 0))
    except ValueError:
        raise ExportError("line 1: treeSize is not a size") from None
    return ExportFile(tree_size, _public_keys(header), checkpoints, path)
