"""``ketenpoort-verify``: an external auditor's verifier of a Ketenpoort audit export.

    ketenpoort-verify audit-2026-q1.jsonl \\
        --log-key 'ketenpoort.utrecht.nl/audit-log+1a2b3c4d+AXx...' \\
        --witness 'witness.mitros.nl/ketenpoort+9f8e7d6c+BAbc... https://witness.mitros.nl:8009'

It needs this package only (``pip install ./audit``: the standard library, ``cryptography``,
``pydantic`` and ``httpx``), no gateway and no database. It trusts only what it is given: the
log's first verifier key (later keys only through rotations the log announced with the key
before), the witness keys and their quorum; ``--witness 'VKEY URL'`` also asks that witness what
it holds now, ``--checkpoint FILE`` compares with a signed checkpoint seen before (a receipt's).
Without either it cannot see an export cut short after its last checkpoint (the header's size
is the operator's word), so it refuses to run unless told ``--offline`` (with ``--witness-key``
only), and then says NOT CHECKED about the export's end.
Exit code 0 when everything verifies and every entry is witnessed (offline: as far as it can
tell, NOT CHECKED printed), 1 when something does not (or entries are not yet witnessed,
unless ``--accept-unwitnessed``), 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from audit.anchors import WitnessEndpoint, witness_endpoint
from audit.exportfile import read_export
from audit.note import COSIGNATURE_V1, ED25519, NoteError, Verifier, parse_vkey, vkey_text_or_file
from audit.verification import CannotVerify, Checked, Trust, verify_exported
from audit.verify import duplicate_witness_names


class _Refused(Exception):
    """Cannot run (exit code 2)."""


def _key(value: str, signature_type: int, what: str) -> Verifier:
    try:
        verifier = parse_vkey(vkey_text_or_file(value))
    except (NoteError, OSError) as exc:
        raise _Refused(f"{what}: {exc}") from None
    if verifier.signature_type != signature_type:
        raise _Refused(f"{what} {verifier.name} has the wrong key type")
    return verifier


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ketenpoort-verify",
        description="Verify a Ketenpoort audit export against pinned log and witness keys.",
    )
    parser.add_argument("export", type=Path, help="the export file (ketenpoort audit export)")
    parser.add_argument(
        "--log-key",
        required=True,
        help="the log's first verifier key as published (vkey), or a file holding it",
    )
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        help="a trusted witness's verifier key (vkey); repeatable",
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        help="a trusted witness to ask what it holds: 'VKEY URL'; repeatable",
    )
    parser.add_argument(
        "--quorum", type=int, help="cosignatures a checkpoint needs (default 1; 0: no witness)"
    )
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        type=Path,
        help="a signed checkpoint seen before (e.g. a receipt's signedNote); repeatable",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="ask no witness what it holds: needed when no --witness 'VKEY URL' and no "
        "--checkpoint is given; an export cut short after its last checkpoint then looks "
        "complete, and the output says NOT CHECKED",
    )
    parser.add_argument(
        "--accept-unwitnessed",
        action="store_true",
        help="exit 0 even when entries after the last witnessed checkpoint exist",
    )
    return parser


def _trust(args: argparse.Namespace) -> Trust:
    log_key = _key(args.log_key, ED25519, "--log-key")
    witnesses: list[WitnessEndpoint | Verifier] = [
        _key(text, COSIGNATURE_V1, "--witness-key") for text in args.witness_key
    ]
    for text in args.witness:
        try:
            witnesses.append(witness_endpoint(text))
        except ValueError as exc:
            raise _Refused(f"--witness: {exc}") from None
    if args.quorum is None and not witnesses:
        # Fail closed: without a witness nothing outside the log's own storage vouches for
        # its checkpoints; an auditor who means that says so.
        raise _Refused(
            "no witness to trust: give --witness-key or --witness, or --quorum 0 to check "
            "the log's own signatures only"
        )
    same = duplicate_witness_names(
        [w.verifier if isinstance(w, WitnessEndpoint) else w for w in witnesses]
    )
    if same:
        raise _Refused(f"two witnesses have the same name {same[0]}: give each once")
    quorum = args.quorum if args.quorum is not None else 1
    if not 0 <= quorum <= len(witnesses):
        raise _Refused(f"a quorum of {quorum} needs at least {quorum} trusted witnesses")
    return Trust(log_key=log_key, witnesses=witnesses, quorum=quorum)


def _notes(paths: Sequence[Path]) -> list[tuple[str, str]]:
    notes = []
    for path in paths:
        try:
            notes.append((f"the checkpoint in {path}", path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise _Refused(f"cannot read {path}: {exc}") from None
    return notes


def _unasked(args: argparse.Namespace, trust: Trust) -> None:
    """Refuse to run without anything held outside the export to compare its end with, unless
    the auditor says ``--offline`` (review8b F1: an export whose witnessed tail was cut off,
    with its checkpoints and the header's treeSize, said "OK: the log verifies")."""
    if args.offline or args.checkpoint or trust.endpoints:
        return
    raise _Refused(
        "no witness is asked what it holds (--witness 'VKEY URL') and no --checkpoint is "
        "given: entries cut off the end of the export, with their checkpoints, could not be "
        "seen. Pass --offline to verify without that check (the output then says NOT CHECKED)"
    )


def _report(checked: Checked, accept_unwitnessed: bool) -> int:
    result = checked.result
    for holding in checked.holdings:
        held = (
            f"tree size {holding.tree_size}"
            if holding.tree_size is not None
            else "no checkpoint of this log"
        )
        print(f"Witness {holding.name} holds {held}.")
    if checked.rotations:
        print(f"Followed {checked.rotations} announced key rotation(s) to the current key.")
    witnessed = (
        f"cosigned by {result.quorum} witness(es) up to tree size {result.witnessed_tree_size}"
        if result.quorum
        else "no witnesses required"
    )
    print(
        f"{result.entries} entries, {result.checkpoints} checkpoints; signed and verified up to "
        f"tree size {result.verified_tree_size}; {witnessed}; {result.anchors} checkpoint(s) "
        "held outside the log compared."
    )
    if not checked.holdings:
        offline = " (--offline)" if checked.offline else ""
        compared = f" beyond the {result.anchors} checkpoint(s) compared" if result.anchors else ""
        print(
            f"NOT CHECKED: no witness was asked what it holds{offline}: whether the log had "
            f"more than these {result.entries} entries (a tail cut off with its checkpoints) "
            f"cannot be seen from the export{compared}."
        )
    if not result.ok:
        first = result.first_problem
        print(f"FAILED: first bad {first}", file=sys.stderr)
        for problem in result.problems:
            if problem is not first:
                print(f"  also: {problem}", file=sys.stderr)
        return 1
    if result.unwitnessed:
        message = (
            f"{result.unwitnessed} entries after tree size {result.witnessed_tree_size} are "
            "consistent but not yet witnessed"
        )
        if not accept_unwitnessed:
            print(f"NOT YET WITNESSED: {message}.", file=sys.stderr)
            return 1
        print(f"{message} (accepted).")
    if not checked.holdings:
        print("OK (offline): the log verifies, except its end: NOT CHECKED (see above).")
    else:
        print("OK: the log verifies.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        trust = _trust(args)
        _unasked(args, trust)
        notes = _notes(args.checkpoint)
        try:
            exported = read_export(args.export)
        except (OSError, ValueError) as exc:
            raise _Refused(f"cannot read {args.export}: {exc}") from None
        asked = bool(trust.endpoints) and not args.offline
        with httpx.Client(timeout=10.0) as http:
            checked = verify_exported(exported, trust, http=http if asked else None, notes=notes)
    except (_Refused, CannotVerify) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return _report(checked, args.accept_unwitnessed)


if __name__ == "__main__":
    sys.exit(main())
