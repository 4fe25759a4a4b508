"""``ketenpoort audit``: verify, export, checkpoint, and the privacy officers' reports."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal, cast

import typer

from gateway.audit import reports
from gateway.audit.readers import LogReader
from gateway.core.cli import (
    DataDir,
    DateOptionError,
    load_settings,
    open_database,
    parse_moment_option,
    plural,
    progress_bar,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from pydantic import BaseModel
    from sqlalchemy.orm import Session, sessionmaker

    from audit.anchors import WitnessEndpoint
    from audit.note import Verifier
    from audit.verification import Trust
    from audit.verify import VerificationResult
    from gateway.audit.schemas import AccessReport, SubjectIdentifier
    from gateway.audit.service import AuditLog
    from gateway.config import Settings
    from gateway.policy.covenant import Covenant

app = typer.Typer(no_args_is_help=True)

PublicKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--public-key",
        help="A trusted log public key file (base64 raw Ed25519 or PEM); repeatable. A pin, "
        "as --log-key is.",
    ),
]
LogKeyOption = Annotated[
    str | None,
    typer.Option(
        "--log-key",
        help="The log's verifier key (vkey, '<origin>+<id>+<key>') or a file holding it. "
        "Default: KETENPOORT_AUDIT_LOG_KEY.",
    ),
]
WitnessOption = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="A trusted witness: '<vkey> <URL>' (or just '<vkey>' with --offline); "
        "repeatable. Default: KETENPOORT_AUDIT_WITNESSES.",
    ),
]


def _trusted_keys(files: list[Path] | None) -> list[Ed25519PublicKey]:
    """Keys from files: a vkey (as 'audit public-key' prints), raw base64 or PEM."""
    from audit.keys import public_key_from_text
    from audit.note import parse_vkey

    keys = []
    for path in files or []:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _Failure(f"cannot read {path} (a public key): {exc}") from None
        parts = text.split("+", 2)
        is_vkey = len(parts) == 3 and re.fullmatch(r"[0-9a-f]{8}", parts[1]) is not None
        try:
            keys.append(parse_vkey(text).public_key if is_vkey else public_key_from_text(text))
        except ValueError as exc:
            raise _Failure(
                f"{path} is not a public key (a vkey as 'audit public-key' prints, raw base64 "
                f"or PEM): {exc}"
            ) from None
    return keys


def _report(result: VerificationResult, *, accept_unwitnessed: bool, unasked: bool = False) -> None:
    """``unasked``: witnesses are configured but were not asked what they hold (--offline)."""
    witnessed = (
        f"cosigned by {plural(result.quorum, 'witness', 'witnesses')} up to tree size "
        f"{result.witnessed_tree_size}"
        if result.quorum
        else "NOT WITNESSED (no witness configured, quorum 0)"
    )
    typer.echo(
        f"{plural(result.entries, 'entry', 'entries')}, "
        f"{plural(result.checkpoints, 'checkpoint')}; "
        f"signed and verified up to tree size {result.verified_tree_size}; {witnessed}; "
        f"{plural(result.anchors, 'checkpoint')} held outside the log compared."
    )
    if unasked:
        # Said, never implied by "OK" (review8b F1): the log's own checkpoints cannot show
        # entries deleted from its end together with them; only what a witness holds can.
        typer.echo(
            "NOT CHECKED: the witnesses were not asked what they hold (--offline): entries "
            f"deleted after these {plural(result.entries, 'entry', 'entries')} together with "
            "their checkpoints cannot be seen this way.",
            err=True,
        )
    if result.ok:
        if result.unwitnessed:
            what = "witnessed" if result.quorum else "in a signed checkpoint"
            message = (
                f"{plural(result.unwitnessed, 'entry', 'entries')} after tree size "
                f"{result.witnessed_tree_size} "
                f"{'is' if result.unwitnessed == 1 else 'are'} consistent but not yet {what}"
            )
            if not accept_unwitnessed:
                typer.echo(
                    f"NOT YET WITNESSED: {message}; until they are, whoever runs the database "
                    "could change them unseen (run the checkpoint job, or pass "
                    "--accept-unwitnessed).",
                    err=True,
                )
                raise typer.Exit(1)
            typer.echo(f"{message} (accepted).")
        typer.echo(
            "OK (offline): the log verifies, except its end: NOT CHECKED."
            if unasked
            else "OK: the log verifies."
        )
        if not result.quorum:
            # The exit code stays 0 (an operator's deployment without witnesses checks what it
            # can), but no reader can take this for a witnessed log (review6a, noticed).
            typer.echo(
                "WARNING: no witness was asked (KETENPOORT_AUDIT_WITNESSES is empty and no "
                "--witness was given): the log was checked against its own signatures only, "
                "and a history rewritten and signed again with the log key would pass too. "
                "An auditor's check: ketenpoort-verify, which refuses to run without a witness "
                "unless told --quorum 0 --offline.",
                err=True,
            )
        return
    first = result.first_problem
    typer.echo(f"FAILED: first bad {first}", err=True)
    for problem in result.problems:
        if problem is not first:
            typer.echo(f"  also: {problem}", err=True)
    raise typer.Exit(1)


def _trust(
    settings: Settings | None,
    *,
    public_key: list[Path] | None,
    log_key: str | None,
    witness: list[str] | None,
    quorum: int | None,
    offline: bool,
) -> Trust:
    """What verify trusts, all from options or configuration, never from the key directory
    (which whoever can rewrite the log may also replace)."""
    from audit.anchors import witness_endpoint
    from audit.note import COSIGNATURE_V1, parse_vkey, vkey_text_or_file
    from audit.verification import Trust

    vkey = log_key or (settings.audit_log_key if settings else None)
    verifier = parse_vkey(vkey_text_or_file(vkey)) if vkey else None
    texts = witness if witness is not None else (settings.audit_witnesses if settings else [])
    witnesses: list[WitnessEndpoint | Verifier] = []
    for text in texts:
        if offline and " " not in text.strip():
            found = parse_vkey(text)
            if found.signature_type != COSIGNATURE_V1:
                raise ValueError(f"{found.name}: a witness key has type 0x04 (cosignature)")
            witnesses.append(found)
        else:
            witnesses.append(witness_endpoint(text))
    if quorum is None:
        configured = settings.audit_witness_quorum if settings and witness is None else None
        quorum = configured if configured is not None else min(1, len(witnesses))
    if quorum > len(witnesses):
        raise ValueError(f"a quorum of {quorum} needs at least {quorum} trusted witnesses")
    from audit.anchors import WitnessEndpoint as Endpoint
    from audit.verify import duplicate_witness_names

    same = duplicate_witness_names(
        [w.verifier if isinstance(w, Endpoint) else w for w in witnesses]
    )
    if same:
        raise ValueError(f"two witnesses have the same name {same[0]}: give each once")
    return Trust(
        log_key=verifier,
        extra_keys=_trusted_keys(public_key),
        witnesses=witnesses,
        quorum=quorum,
    )


def _checkpoint_notes(files: list[Path] | None) -> list[tuple[str, str]]:
    notes = []
    for path in files or []:
        try:
            notes.append((f"the checkpoint in {path}", path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise _Failure(f"cannot use {path}: {exc}") from None
    return notes


@app.command("verify")
def verify(
    data_dir: DataDir = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Verify this export file offline (no database)."),
    ] = None,
    public_key: PublicKeyOption = None,
    log_key: LogKeyOption = None,
    witness: WitnessOption = None,
    quorum: Annotated[
        int | None,
        typer.Option("--quorum", help="Cosignatures a checkpoint needs (default: configured)."),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A signed checkpoint seen before (e.g. from a receipt); the log must still "
            "contain its tree. Repeatable.",
        ),
    ] = None,
    accept_unwitnessed: Annotated[
        bool,
        typer.Option(
            "--accept-unwitnessed",
            help="Exit 0 even when entries after the last witnessed checkpoint exist.",
        ),
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask the witnesses what they hold.")
    ] = False,
    trust_key_dir: Annotated[
        bool,
        typer.Option(
            "--trust-key-dir",
            help="Trust the signing key in the gateway's key directory (no pin: a key "
            "replaced there with the re-signed checkpoints would not be noticed).",
        ),
    ] = False,
) -> None:
    """Verify every entry against the signed, witnessed checkpoints; names the first bad one.

    Trusts only pinned keys: the log's (--log-key / --public-key / KETENPOORT_AUDIT_LOG_KEY:
    the log's first key; later keys only through rotations announced by the key before) and
    the witnesses' (--witness / KETENPOORT_AUDIT_WITNESSES), whose latest checkpoints are
    fetched and compared unless --offline."""
    import dataclasses

    import httpx

    from audit.verification import CannotVerify, ExportUnreadable, verify_exported
    from gateway.audit.verification import verify_stored

    with _reporting():
        settings = None if export is not None else load_settings(data_dir)
        try:
            trust = _trust(
                settings,
                public_key=public_key,
                log_key=log_key,
                witness=witness,
                quorum=quorum,
                offline=offline,
            )
        except ValueError as exc:
            raise _Failure(str(exc)) from None
        notes = _checkpoint_notes(checkpoint)
        with ExitStack() as stack:
            http = None if offline else stack.enter_context(httpx.Client(timeout=10.0))
            try:
                if export is not None:
                    from audit.exportfile import read_export

                    try:
                        exported = read_export(export)
                    except (OSError, ValueError) as exc:
                        raise _Failure(f"cannot read {export}: {exc}") from None
                    if not trust.pinned:
                        if not trust_key_dir:
                            raise _Failure(
                                "no pinned log key: pass --log-key (the published vkey) or "
                                "--public-key; --trust-key-dir trusts the key inside the "
                                "export instead"
                            )
                        trust = dataclasses.replace(trust, extra_keys=exported.public_keys)
                    _echo_trust(trust)
                    with progress_bar("Verifying export", exported.tree_size) as bar:
                        checked = verify_exported(
                            exported, trust, http=http, notes=notes, progress=bar.advance
                        )
                else:
                    with open_database(data_dir) as (opened, factory):
                        if not trust.pinned:
                            trust = dataclasses.replace(
                                trust, extra_keys=_key_dir_keys(opened, trust_key_dir)
                            )
                        with progress_bar("Verifying log") as bar:
                            checked = verify_stored(
                                factory,
                                trust,
                                http=http,
                                notes=notes,
                                sized=bar.set_total,
                                progress=bar.advance,
                            )
            except ExportUnreadable as exc:
                raise _Failure(str(exc)) from None
            except CannotVerify as exc:
                hint = "" if offline else " (pass --offline to skip asking the witnesses)"
                raise _Failure(f"{exc}{hint}") from None
    for holding in checked.holdings:
        held = (
            f"tree size {holding.tree_size}"
            if holding.tree_size is not None
            else "no checkpoint of this log"
        )
        typer.echo(f"Witness {holding.name} holds {held}.")
    if checked.rotations:
        typer.echo(
            f"Followed {checked.rotations} announced key rotation(s) to the current key "
            f"{checked.key_ids[-1][:16]}…"
        )
    _report(
        checked.result,
        accept_unwitnessed=accept_unwitnessed,
        unasked=checked.offline and bool(checked.trust.witnesses),
    )


def _echo_trust(trust: Trust) -> None:
    from audit.keys import public_key_id

    for key in trust.pinned:
        typer.echo(f"Trusting signing key {public_key_id(key)}")


def _key_dir_keys(settings: Settings, trust_key_dir: bool) -> list[Ed25519PublicKey]:
    from audit.keys import load_public_key
    from gateway.audit.wiring import key_dir

    if not trust_key_dir:
        raise _Failure(
            "no pinned log key: pass --log-key (the published vkey, see 'ketenpoort "
            "audit public-key') or set KETENPOORT_AUDIT_LOG_KEY; --trust-key-dir "
            "trusts the key directory instead"
        )
    try:
        keys = [load_public_key(key_dir(settings))]
    except FileNotFoundError as exc:
        raise _Failure(str(exc)) from None
    typer.echo("warning: the log key is not pinned (--trust-key-dir)", err=True)
    return keys


@app.command("export")
def export_log(
    file: Annotated[Path, typer.Argument(help="Where to write the export (JSON Lines).")],
    export_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="verification (default): entries, checkpoints and the public key, for "
            "`audit verify --export`; ldv: one covenant's entries as Logboek "
            "Dataverwerkingen records (docs/audit.md).",
        ),
    ] = "verification",
    covenant: CovenantOption = None,
    data_dir: DataDir = None,
) -> None:
    """Write entries, checkpoints and the public key to FILE for offline verification, or
    (--format ldv) the entries as Logboek Dataverwerkingen records."""
    if export_format == "ldv":
        _export_ldv(file, covenant, data_dir)
        return
    if export_format != "verification":
        raise _fail(f"--format is verification or ldv, not {export_format!r}")
    from audit.keys import load_public_key, public_key_id
    from gateway.audit.export import db_head_size, write_export
    from gateway.audit.wiring import key_dir

    with open_database(data_dir) as (settings, factory):
        key = load_public_key(key_dir(settings))
        with factory() as session:
            size = db_head_size(session)
        with file.open("w", encoding="utf-8") as out, progress_bar("Exporting", size) as bar:
            written = write_export(factory, out, [key], progress=bar.advance)
    typer.echo(f"Wrote {written} entries to {file}; signing key {public_key_id(key)}")


def _export_ldv(file: Path, covenant: str | None, data_dir: Path | None) -> None:
    from audit import ldv
    from gateway.audit.schemas import EntrySearch

    with _reporting(), _officer(data_dir, covenant) as officer:
        entries = reports.iter_entries(
            officer.session,
            # The operator's export of the whole covenant's log, as stored.
            reader=LogReader.operator(officer.covenant),
            search=EntrySearch(),
            subject_pseudonym=None,
        )
        records = _Counter(
            ldv.as_records(
                entries, base_url=officer.settings.public_url, resource=ldv.gateway_resource()
            )
        )
        with _output(file) as out:
            out.writelines(reports.as_jsonl(records))
    typer.echo(f"Wrote {records.count} Logboek Dataverwerkingen records to {file}", err=True)


@app.command("checkpoint")
def checkpoint(data_dir: DataDir = None) -> None:
    """Sign a checkpoint over every committed entry (for cron; safe next to the server)."""
    from gateway.audit.wiring import open_audit_log

    # open_audit_log refuses an origin other than the log's own (review9c F2), the example's
    # or a placeholder for a new log (review6a F2): said in one line by _reporting.
    with _reporting(), open_database(data_dir) as (settings, factory):
        view = open_audit_log(settings, factory).sign_checkpoint(factory)
    if view is None:
        typer.echo("No new entries since the last checkpoint.")
    else:
        typer.echo(f"Signed checkpoint: tree size {view.tree_size}, root {view.root_hash}")


@app.command("rotate-key")
def rotate_key(data_dir: DataDir = None) -> None:
    """Replace the log's signing key: a checkpoint signed by the old key announces the new one,
    the witnesses cosign it, then the new key is installed. Run again to finish a rotation the
    witnesses could not cosign yet. Publish the new verifier key it prints."""
    from gateway.audit.rotation import RotationError, rotate_signing_key
    from gateway.audit.wiring import key_dir, pinned_log_key
    from gateway.policy.covenant import load_covenants

    with _reporting(), open_database(data_dir) as (settings, factory):
        pinned = pinned_log_key(settings)
        try:
            audit = _open_for_rotation(settings, factory)
            result = rotate_signing_key(
                factory,
                audit,
                key_dir(settings),
                covenant_ids=sorted(load_covenants(settings.covenant_dir)),
                pinned=pinned.public_key if pinned is not None else None,
            )
        except RotationError as exc:
            raise _Failure(str(exc)) from None
    typer.echo(
        f"Checkpoint {result.announced_in} (signed by the old key {result.old_key_id[:16]}…) "
        f"announces the new key; cosigned by {result.cosigned} of the {result.quorum} "
        "witness(es) required."
    )
    if not result.installed:
        typer.echo(
            "NOT INSTALLED: the announcement lacks the witness quorum; the old key stays in use "
            "and signs nothing new. Run 'ketenpoort audit rotate-key' again when the witnesses "
            "are reachable.",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"Installed. The new log verifier key (publish it): {result.new_vkey}")


def _open_for_rotation(settings: Settings, factory: sessionmaker[Session]) -> AuditLog:
    """The audit log as configured (origin, witnesses), without the start-time key check: the
    rotation checks the keys itself and may resume an announced rotation. The origin is
    checked as at start: the announcement is a checkpoint, signed under the log's own name
    (review9c F2)."""
    from audit.keys import PSEUDONYM_KEY_FILE, load_or_create_pseudonymiser, load_signer
    from gateway.audit.service import AuditLog
    from gateway.audit.wiring import checkpoint_origins, key_dir, witnessing
    from gateway.config import log_origin_problem

    problem = log_origin_problem(settings, checkpoint_origins(factory))
    if problem is not None:
        raise _Failure(problem)
    directory = key_dir(settings)
    try:
        signer = load_signer(directory)
    except FileNotFoundError as exc:
        raise _Failure(str(exc)) from None
    if not (directory / PSEUDONYM_KEY_FILE).exists():
        raise _Failure(f"no pseudonym key in {directory}")
    return AuditLog(
        signer=signer,
        pseudonymiser=load_or_create_pseudonymiser(directory),
        origin=settings.audit_log_origin,
        witnessing=witnessing(settings),
        key_dir=directory,
    )


@app.command("public-key")
def public_key_command(data_dir: DataDir = None) -> None:
    """Print the log's verifier key (vkey, to pin), its raw public key and its fingerprint.

    Never creates a key."""
    from audit.keys import SIGNING_KEY_FILE, CheckpointSigner, _load_private_key, public_key_text
    from gateway.audit.wiring import key_dir

    settings = load_settings(data_dir)
    path = key_dir(settings) / SIGNING_KEY_FILE
    if not path.exists():
        raise _fail(f"no audit signing key at {path}")
    signer = CheckpointSigner(_load_private_key(path))
    typer.echo(signer.vkey(settings.audit_log_origin))
    typer.echo(f"public key (base64): {public_key_text(signer.public_key)}", err=True)
    typer.echo(f"key id (SHA-256): {signer.key_id}", err=True)


# -- privacy officers' reports -------------------------------------------------------------
#
# The same service functions as the API (audit.reports), for one covenant named with
# --covenant. A data subject's identifier is never an argument (it would stay in the shell
# history and show in `ps`): it is read from stdin, or asked for without echo on a terminal.

Format = Literal["json", "jsonl", "csv"]
CovenantOption = Annotated[
    str | None,
    typer.Option(
        "--covenant",
        help="The covenant whose log to read (required when the gateway loads several).",
    ),
]
PartnerOption = Annotated[
    str | None,
    typer.Option(
        "--as-partner",
        help="Report as this partner's privacy officer: only the entries the partner is "
        "accountable for (it asked, received, or its data was disclosed). Without it: the "
        "covenant's coordinating privacy officer (coordinatingPrivacyOfficer), who sees "
        "the whole covenant.",
    ),
]
FormatOption = Annotated[str, typer.Option("--format", help="json, jsonl (JSON Lines) or csv.")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE (created 0600) instead of stdout."),
]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="From this time (ISO 8601; a date or a time without offset is UTC)."
    ),
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Before this time (ISO 8601, as --from).")
]
IdentifierTypeOption = Annotated[
    str,
    typer.Option(
        "--identifier-type",
        help="bsn (default) or address (found through the blind index), or another type. "
        "The identifier itself is read from stdin, or asked for without echo.",
    ),
]

_FORMATS = ("json", "jsonl", "csv")


class _Failure(Exception):
    """A user-facing error: printed as ``error: ...`` with exit code 2, no traceback."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@contextmanager
def _reporting() -> Iterator[None]:
    """Turn the known failures into one clear line on stderr and exit code 2."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.config import StartRefused
    from gateway.core.errors import GatewayError

    try:
        yield
    except (_Failure, StartRefused) as exc:
        raise _fail(str(exc)) from None
    except GatewayError as exc:  # details never hold personal data (see GatewayError)
        raise _fail(exc.detail or exc.title) from None
    except ValidationError as exc:
        raise _fail(_validation_message(exc)) from None
    except SQLAlchemyError as exc:
        # Not the message itself: it may quote the URL (with a password) or a parameter.
        raise _fail(
            f"database error ({type(exc).__name__}); check that KETENPOORT_DATABASE_URL "
            "(or --data-dir) points at the gateway's database and that it is reachable"
        ) from None


def _validation_message(exc: Any) -> str:
    """Pydantic's messages without the input values (an identifier must not be echoed)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())) or "value"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _format(value: str) -> Format:
    if value not in _FORMATS:
        raise _Failure(f"--format is one of {', '.join(_FORMATS)}, not {value!r}")
    return cast(Format, value)


def _moment(option: str, value: str | None) -> str | None:
    """ISO 8601 as given, with UTC assumed when it carries no offset."""
    if value is None:
        return None
    try:
        return parse_moment_option(option, value).isoformat()
    except DateOptionError as exc:
        raise _Failure(str(exc)) from None


def read_identifier(identifier_type: str, *, stdin: IO[str] | None = None) -> str:
    """The data subject's identifier from stdin (first line), or asked for without echo when
    stdin is a terminal; checked (a BSN must pass the 11-check) before anything is looked up.
    The value never reaches an error message."""
    import getpass

    source = stdin if stdin is not None else sys.stdin
    if source.isatty():
        value = getpass.getpass(f"{identifier_type} of the data subject (not shown): ")
    else:
        value = source.readline()
    value = value.strip()
    if not value:
        raise _Failure(
            "no identifier given: pipe it on stdin (e.g. from a file) or type it at the prompt; "
            "it is never taken as an argument"
        )
    if identifier_type == "bsn":
        from gateway.crypto.blind_index import normalise_bsn

        normalise_bsn(value)  # InvalidIdentifier: "A BSN has 9 digits and passes the 11-check."
    return value


class _Officer:
    """What a report command works with: a session on the deployment's database, the
    covenant, and the pseudonym of an identifier computed exactly as the API computes it."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        session: Session,
        covenant: Covenant,
        closing: ExitStack,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.session = session
        self.covenant = covenant
        self._closing = closing
        self.log: Any = None

    def subject_roles(self, identifier_type: str, pseudonym: str) -> reports.SubjectRoles:
        """What the subject is in each case, as the API finds it (after :meth:`pseudonym`,
        which opened the log): the access report names a category only to a subject it
        concerns."""
        from audit.entry import DataSubject
        from gateway.cases.subjects import subject_roles

        subject = DataSubject(pseudonym=pseudonym, identifier_type=identifier_type)
        return subject_roles(self.session, self.log, subject)

    def retention_rule_ids(self) -> frozenset[str]:
        """The covenant's retention rule ids, as the API reads them from the loaded rules;
        none when the rules do not load (an erasure's line is then left out of the access
        report: what its clause names is unknown)."""
        from gateway.core.errors import GatewayError
        from gateway.retention.rules import load_rules

        try:
            return load_rules(self.settings.covenant_dir).rule_ids(self.covenant.id)
        except GatewayError:
            return frozenset()

    def record_access_report(
        self,
        partner_id: str,
        subject: SubjectIdentifier,
        pseudonym: str,
        report: AccessReport,
        started: datetime,
    ) -> None:
        """Audit the report as the API does (activity ``access-report``), committed before
        the report is shown: no entry, no report."""
        from audit.entry import Actor, DataSubject
        from gateway.db import transaction

        role = next(r.id for r in self.covenant.roles if r.kind == "audit")
        with transaction(self.factory) as session:
            self.log.append(
                session=session,
                entry=reports.access_report_entry(
                    covenant_id=self.covenant.id,
                    officer=Actor(partner_id=partner_id, role=role),
                    subject=DataSubject(
                        pseudonym=pseudonym, identifier_type=subject.identifier_type
                    ),
                    report=report,
                    started_at=started,
                    channel="cli",
                ),
            )

    def officer_partner(self, partner: str | None) -> str:
        """The officer's partner: --as-partner, or else the coordinating officer's."""
        chosen = partner or self.covenant.coordinating_privacy_officer
        if chosen is None:
            raise _Failure(
                f"covenant {self.covenant.id!r} names no coordinatingPrivacyOfficer; "
                "name the officer's partner with --as-partner"
            )
        if self.covenant.partner(chosen) is None:
            raise _Failure(f"{chosen!r} is not a partner of covenant {self.covenant.id!r}")
        return chosen

    def reader(self, partner: str | None) -> LogReader:
        """The officer of ``partner`` (without --as-partner the coordinating officer) as the
        API's reports scope it (``accountable`` is the API's ``accountable_partner``)."""
        chosen = self.officer_partner(partner)
        coordinating = chosen == self.covenant.coordinating_privacy_officer
        return LogReader.of(self.covenant, chosen, covenant_wide=coordinating)

    def pseudonym(self, subject: SubjectIdentifier) -> str:
        """Opened read-only: a missing key is an error here, never a reason to create one (a
        wrong --data-dir would otherwise find nothing and say so)."""
        from audit.keys import PSEUDONYM_KEY_FILE, SIGNING_KEY_FILE
        from gateway.audit.service import INDEXED_TYPES, AuditLog, BlindIndexSubjects
        from gateway.audit.wiring import key_dir
        from gateway.crypto.runtime import build_crypto_services

        keys = key_dir(self.settings)
        for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE):
            if not (keys / name).exists():
                raise _Failure(f"no audit keys in {keys} ({name} missing); is --data-dir right?")
        log = AuditLog.from_key_dir(keys)
        self.log = log
        if subject.identifier_type in INDEXED_TYPES:
            services = build_crypto_services(self.settings)
            self._closing.callback(services.close)
            if not services.provider.versions():
                raise _Failure(
                    "no key-encryption key found, so the identifier cannot be looked up; "
                    "is --data-dir right?"
                )
            log.subject_indexer = BlindIndexSubjects(services.blind_index, self.factory)
        return log.data_subject(
            identifier_type=subject.identifier_type,
            identifier=subject.identifier,
            session=self.session,
        ).pseudonym


@contextmanager
def _officer(data_dir: Path | None, covenant: str | None) -> Iterator[_Officer]:
    from gateway.policy.covenant import load_covenants

    with open_database(data_dir) as (settings, factory), ExitStack() as closing:
        chosen = _choose_covenant(load_covenants(settings.covenant_dir), covenant)
        with factory() as session:
            yield _Officer(settings, factory, session, chosen, closing)


def _choose_covenant(covenants: dict[str, Covenant], wanted: str | None) -> Covenant:
    if wanted is None:
        if len(covenants) == 1:
            return next(iter(covenants.values()))
        raise _Failure(f"name the covenant with --covenant ({', '.join(sorted(covenants))})")
    found = covenants.get(wanted)
    if found is None:
        raise _Failure(f"unknown covenant {wanted!r} (loaded: {', '.join(sorted(covenants))})")
    return found


def _subject(identifier_type: str) -> SubjectIdentifier:
    """The identifier read as :func:`read_identifier` does, validated as the API's body."""
    from gateway.audit.schemas import SubjectIdentifier

    SubjectIdentifier(identifier_type=identifier_type, identifier="x")  # the type, first
    return SubjectIdentifier(
        identifier_type=identifier_type, identifier=read_identifier(identifier_type)
    )


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or FILE created with mode 0600 (reports are personal data about processing)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise _Failure(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
            yield out
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written report left behind
        raise


def _emit(
    output: Path | None,
    output_format: Format,
    document: Callable[[], Any],
    rows: Iterable[dict[str, Any]],
    csv_lines: Callable[[Iterable[dict[str, Any]]], Iterable[str]],
    what: str,
) -> None:
    """``json``: the whole ``document()``; ``jsonl``: one row per line; ``csv``: a header and
    one line per row. With --output, a count goes to stderr."""
    counted = _Counter(rows)
    with _output(output) as out:
        if output_format == "json":
            out.write(json.dumps(document(), ensure_ascii=False, indent=2, sort_keys=True))
            out.write("\n")
            if output is not None:
                typer.echo(f"Wrote {what} to {output}", err=True)
            return
        chunks = reports.as_jsonl(counted) if output_format == "jsonl" else csv_lines(counted)
        out.writelines(chunks)
    if output is not None:
        typer.echo(f"Wrote {counted.count} {what} to {output}", err=True)


class _Counter:
    """Counts the rows passing through to the writer."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            self.count += 1
            yield row


def _dumped(models: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [model.model_dump(mode="json", by_alias=True) for model in models]


def _table(columns: Sequence[str]) -> Callable[[Iterable[dict[str, Any]]], Iterable[str]]:
    return lambda rows: reports.as_table_csv(rows, columns)


@app.command("search")
def search(
    covenant: CovenantOption = None,
    case_id: Annotated[str | None, typer.Option("--case", help="Case id.")] = None,
    subject_type: Annotated[
        str | None,
        typer.Option(
            "--subject",
            help="Only entries about one data subject with an identifier of this type (bsn, "
            "address, ...); the identifier is read from stdin, or asked for without echo.",
        ),
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Requesting or receiving partner id.")
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Purpose id.")] = None,
    clause: Annotated[str | None, typer.Option("--clause", help="Covenant clause id.")] = None,
    activity: Annotated[
        str | None, typer.Option("--activity", help="e.g. disclosure, denial, case-intake.")
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome", help="disclosed, partially-disclosed, denied, recorded or failed."
        ),
    ] = None,
    refused: Annotated[
        bool,
        typer.Option(
            "--refused",
            help="Only entries that withheld a category by a decision, partial refusals "
            "included (--outcome denied finds whole refusals only).",
        ),
    ] = False,
    since: FromOption = None,
    until: UntilOption = None,
    as_partner: PartnerOption = None,
    output_format: FormatOption = "json",
    output: OutputOption = None,
    data_dir: DataDir = None,
) -> None:
    """Search a covenant's entries (as POST /v1/audit/entries/search and /export).

    By case, data subject, partner, purpose, clause, activity, period, outcome and refusal;
    every match, no paging."""
    from gateway.audit.schemas import EntrySearch

    with _reporting():
        chosen = _format(output_format)
        filters = EntrySearch.model_validate(
            {
                "caseId": case_id,
                "partnerId": partner,
                "purpose": purpose,
                "clauseId": clause,
                "activity": activity,
                "outcome": outcome,
                "refused": refused,
                "from": _moment("--from", since),
                "until": _moment("--until", until),
            }
        )
        subject = _subject(subject_type) if subject_type is not None else None
        with _officer(data_dir, covenant) as officer:
            entries = reports.iter_entries(
                officer.session,
                reader=officer.reader(as_partner),
                search=filters,
                subject_pseudonym=officer.pseudonym(subject) if subject else None,
            )
            _emit(output, chosen, lambda: list(entries), entries, reports.as_csv, "entries")


@app.command("access-report")
def access_report(
    covenant: CovenantOption = None,
    identifier_type: IdentifierTypeOption = "bsn",
    as_partner: PartnerOption = None,
    output_format: FormatOption = "json",
    output: OutputOption = None,
    data_dir: DataDir = None,
) -> None:
    """GDPR art. 15: every recorded processing about one person (identifier from stdin)."""
    from gateway.audit.schemas import AccessReportLine

    with _reporting():
        chosen = _format(output_format)
        subject = _subject(identifier_type)
        with _officer(data_dir, covenant) as officer:
            started = datetime.now(UTC)
            partner_id = officer.officer_partner(as_partner)
            pseudonym = officer.pseudonym(subject)
            report = reports.access_report(
                officer.session,
                reader=officer.reader(as_partner),
                covenant=officer.covenant,
                subject_pseudonym=pseudonym,
                identifier_type=subject.identifier_type,
                subject_roles=officer.subject_roles(subject.identifier_type, pseudonym),
                retention_rule_ids=officer.retention_rule_ids(),
            )
            officer.record_access_report(partner_id, subject, pseudonym, report, started)
        columns = [field.alias or name for name, field in AccessReportLine.model_fields.items()]
        _emit(
            output,
            chosen,
            lambda: report.model_dump(mode="json", by_alias=True),
            _dumped(report.lines),
            _table(columns),
            "lines",
        )


@app.command("register")
def register(
    covenant: CovenantOption = None,
    output_format: FormatOption = "json",
    output: OutputOption = None,
    data_dir: DataDir = None,
) -> None:
    """GDPR art. 30: the covenant's processing activities, from its file.

    jsonl and csv hold the activities; json the whole register with partners and retention."""
    from gateway.audit.schemas import ProcessingActivityView
    from gateway.policy.covenant import load_covenants

    with _reporting():
        chosen = _format(output_format)
        settings = load_settings(data_dir)
        found = _choose_covenant(load_covenants(settings.covenant_dir), covenant)
        result = reports.processing_register(found)
        columns = [
            field.alias or name for name, field in ProcessingActivityView.model_fields.items()
        ]
        _emit(
            output,
            chosen,
            lambda: result.model_dump(mode="json", by_alias=True),
            _dumped(result.activities),
            _table(columns),
            "activities",
        )


@app.command("activity")
def activity_report(
    covenant: CovenantOption = None,
    period: Annotated[str, typer.Option("--period", help="day, week or month.")] = "week",
    since: FromOption = None,
    until: UntilOption = None,
    as_partner: PartnerOption = None,
    output_format: FormatOption = "json",
    output: OutputOption = None,
    data_dir: DataDir = None,
) -> None:
    """Requests and denials per partner and period, unusual ones flagged.

    As GET /v1/audit/partner-activity."""
    from gateway.audit.schemas import PartnerActivity

    with _reporting():
        chosen = _format(output_format)
        if period not in ("day", "week", "month"):
            raise _Failure(f"--period is day, week or month, not {period!r}")
        start = _moment("--from", since)
        end = _moment("--until", until)
        with _officer(data_dir, covenant) as officer:
            result = reports.partner_activity(
                officer.session,
                reader=officer.reader(as_partner),
                period=cast(reports.Period, period),
                since=datetime.fromisoformat(start) if start else None,
                until=datetime.fromisoformat(end) if end else None,
            )
        columns = [field.alias or name for name, field in PartnerActivity.model_fields.items()]
        _emit(
            output,
            chosen,
            lambda: result.model_dump(mode="json", by_alias=True),
            _dumped(result.rows),
            _table(columns),
            "rows",
        )


# -- the witness ------------------------------------------------------------------------------

witness_app = typer.Typer(
    no_args_is_help=True,
    help="Run a witness (C2SP tlog-witness) that cosigns a gateway's audit checkpoints.",
)
WitnessDir = Annotated[
    Path,
    typer.Option(
        "--dir",
        help="The witness's own directory (key, name, state); never inside a gateway's data "
        "directory.",
        envvar="KETENPOORT_WITNESS_DIR",
    ),
]


@witness_app.command("init")
def witness_init(
    directory: WitnessDir,
    name: Annotated[
        str, typer.Option("--name", help="The witness's key name, e.g. witness.mitros.nl/kp.")
    ],
) -> None:
    """Create the witness's key (0600) and empty state; prints its verifier key (vkey)."""
    from gateway.audit.witness import WitnessSetupError, init_witness

    try:
        cosigner = init_witness(directory, name)
    except (WitnessSetupError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(cosigner.verifier.vkey())


@witness_app.command("public-key")
def witness_public_key(directory: WitnessDir) -> None:
    """Print the witness's verifier key (vkey): what gateways and auditors pin."""
    from gateway.audit.witness import WitnessSetupError, load_cosigner

    try:
        typer.echo(load_cosigner(directory).verifier.vkey())
    except WitnessSetupError as exc:
        raise _fail(str(exc)) from None


@witness_app.command("serve")
def witness_serve(
    directory: WitnessDir,
    log: Annotated[
        list[str] | None,
        typer.Option(
            "--log",
            help="A log this witness cosigns: its verifier key (vkey; the name is its origin). "
            "Repeatable.",
            envvar="KETENPOORT_WITNESS_LOGS",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="First start: when --dir is empty, create the witness's key and state under "
            "this key name first (as 'witness init'). A directory in use is never changed.",
            envvar="KETENPOORT_WITNESS_NAME",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8009,
) -> None:
    """Serve add-checkpoint (and the latest cosigned checkpoint per log) over HTTP."""
    import uvicorn

    from audit.note import ED25519, parse_vkey, vkey_text_or_file
    from gateway.audit.witness import (
        Witness,
        WitnessSetupError,
        WitnessState,
        init_witness_if_empty,
        load_cosigner,
        witness_app,
    )

    try:
        # A container's first start initialises its own (empty) volume: a manual `witness
        # init` cannot run in a container whose only process is this one (review9c F3).
        created = init_witness_if_empty(directory, name) if name else None
        cosigner = created or load_cosigner(directory)
    except (WitnessSetupError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if created is not None:
        typer.echo(f"Witness initialised in {directory} (first start)")
    # Printed before the logs are checked: the operator reads the new vkey from the first
    # start's output even while the log key is still to be configured.
    typer.echo(f"Witness {cosigner.verifier.vkey()}")
    texts = [text for text in log or [] if text.strip()]
    if not texts:
        raise _fail(
            "no log to cosign: set KETENPOORT_WITNESS_LOGS (or --log) to the gateway's log "
            "key, which 'ketenpoort audit public-key' prints"
        )
    try:
        logs = [parse_vkey(vkey_text_or_file(text)) for text in texts]
    except ValueError as exc:
        raise _fail(
            f"KETENPOORT_WITNESS_LOGS (or --log): {exc}; give the gateway's log key, which "
            "'ketenpoort audit public-key' prints"
        ) from None
    if any(key.signature_type != ED25519 for key in logs):
        raise _fail("a log key has type 0x01 (Ed25519 note signature)")
    witness = Witness(cosigner, WitnessState(directory / "state"), logs)
    typer.echo(f"Listening on http://{host}:{port} for {', '.join(k.name for k in logs)}")
    uvicorn.run(witness_app(witness), host=host, port=port, log_level="info")
