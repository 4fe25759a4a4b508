"""Ketenpoort's disclosure log as a library an external auditor can install and run alone:
the entry format, RFC 6962 Merkle trees and proofs, C2SP checkpoints, signed notes and
cosignatures, verification of a whole log against pinned log and witness keys (following
announced key rotations), and reading the export file.

Nothing here imports the gateway (no database, no web framework): the gateway's side (writing
entries, signing checkpoints, witnessing, the API, the CLI, reports) is ``gateway.audit``.
``ketenpoort-verify EXPORT --log-key VKEY --witness-key VKEY`` (:mod:`audit.verifier_cli`) is
the command; ``pip install ./audit`` installs this part alone (see docs/audit.md).
"""

from audit.merkle import verify_consistency, verify_inclusion
from audit.note import Verifier, parse_vkey
from audit.verify import (
    Anchor,
    Problem,
    StoredCheckpoint,
    StoredEntry,
    VerificationResult,
    key_chain,
    verify_log,
)

__all__ = [
    "Anchor",
    "Problem",
    "StoredCheckpoint",
    "StoredEntry",
    "VerificationResult",
    "Verifier",
    "key_chain",
    "parse_vkey",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
