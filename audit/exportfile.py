"""The offline export file an auditor verifies: JSON Lines, a header with the public key(s),
then every checkpoint (with its signed note's signature lines), then every entry as its exact
stored body (a string, so the bytes the leaf hash covers survive). Written by the gateway
(``ketenpoort audit export``), read here without it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.keys import public_key_from_text
from audit.verify import StoredCheckpoint, StoredEntry

EXPORT_FORMAT = "ketenpoort-audit-export"


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


@dataclass
class ExportFile:
    tree_size: int
    public_keys: list[Ed25519PublicKey]
    checkpoints: list[StoredCheckpoint]
    path: Path

    def entries(self) -> Iterator[StoredEntry]:
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                record = json.loads(line)
                if record.get("type") != "entry":
                    continue
                try:
                    yield StoredEntry(
                        int(record["index"]), bytes.fromhex(record["leafHash"]), record["body"]
                    )
                except (KeyError, ValueError, TypeError):
                    raise ValueError(f"line {number}: not a valid entry") from None


def read_export(path: Path) -> ExportFile:
    """Read the header and checkpoints (entries are streamed later by :meth:`entries`)."""
    checkpoints: list[StoredCheckpoint] = []
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline() or "{}")
        if header.get("type") != EXPORT_FORMAT:
            raise ValueError("not a Ketenpoort audit export")
        for line in handle:
            record = json.loads(line)
            if record.get("type") == "entry":
                break
            if record.get("type") == "checkpoint":
                checkpoints.append(
                    StoredCheckpoint(
                        tree_size=int(record["treeSize"]),
                        root_hash=bytes.fromhex(record["rootHash"]),
                        signed_at=str(record["signedAt"]),
                        key_id=str(record["keyId"]),
                        note=str(record["note"]),
                        signature=base64.b64decode(record["signature"]),
                        signatures=tuple(str(line) for line in record.get("signatures", ())),
                    )
                )
    keys = [public_key_from_text(k["publicKey"]) for k in header.get("publicKeys", [])]
    return ExportFile(int(header.get("treeSize", 0)), keys, checkpoints, path)
