"""``ketenpoort retention``: run the sweep (or a dry run) and show the rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.config import StartRefused, log_origin_problem, token_audience_problem
from gateway.core.cli import (
    DataDir,
    DateOptionError,
    load_settings,
    parse_day_option,
    progress_bar,
)

if TYPE_CHECKING:
    from gateway.context import GatewayContext
    from gateway.retention.sweeper import SweepReport

app = typer.Typer(no_args_is_help=True)


@contextmanager
def _context(data_dir: Path | None, batch_size: int | None = None) -> Iterator[GatewayContext]:
    from gateway.audit.wiring import log_origins
    from gateway.context import build_context

    # The command is the job: no background jobs in this process.
    settings = load_settings(
        data_dir,
        retention_sweep_interval_seconds=0,
        audit_checkpoint_interval_seconds=0,
        retention_batch_size=batch_size,
    )
    # The gateway would refuse to start on this log origin (against the names the log's
    # checkpoints carry, review9c F2) or token audience: said in one line, before anything is
    # opened, as serve does. build_context refuses a schema other than this code's (review9c
    # F1) in one line too.
    try:
        problem = log_origin_problem(
            settings, log_origins(settings.resolved_database_url)
        ) or token_audience_problem(settings)
        if problem is not None:
            raise StartRefused(problem)
        context = build_context(settings)
    except StartRefused as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    try:
        yield context
    finally:
        context.close()


def _summary(report: SweepReport) -> str:
    verb = "would erase" if report.dry_run else "erased"
    return (
        f"{'Dry run' if report.dry_run else 'Run'} as of {report.as_of}: {verb} "
        f"{report.due if report.dry_run else report.redacted} case(s) and "
        f"{report.meetings} case meeting(s); "
        f"{report.on_hold} due but on legal hold; "
        + ("" if report.dry_run else f"{report.idempotency_purged} idempotency record(s) deleted; ")
        + f"{report.seconds:.1f}s."
    )


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report exactly what would be erased; change nothing.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Sweep as if today were this date (YYYY-MM-DD, 2000-01-01..2100-12-31).",
        ),
    ] = None,
    show: Annotated[bool, typer.Option("--list", help="List every case with what goes.")] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON to this file.")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Cases per transaction.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Erase every case whose retention period ended: shred its data key, overwrite its
    values with tombstones, write one audit entry per case. Safe to rerun after a crash."""
    from gateway.core.errors import GatewayError

    try:
        day = parse_day_option("--as-of", as_of) if as_of else None
    except DateOptionError as exc:  # refused before anything is opened or swept
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    with _context(data_dir, batch_size) as context:
        service = context.require_retention()
        try:
            if dry_run:
                report = service.sweep(dry_run=True, as_of=day, started_by="cli")
            else:
                with progress_bar("erasing") as bar:
                    report = service.sweep(as_of=day, started_by="cli", progress=bar.update)
        except GatewayError as exc:
            typer.echo(f"retention run failed: {exc.detail}", err=True)
            raise typer.Exit(code=1) from None
    if show:
        for item in report.items:
            values = ", ".join(f"{t}: {n}" for t, n in sorted(item.values.items())) or "no rows"
            typer.echo(
                f"{item.case_id}  {item.rule_id}  due {item.due_on}  key {item.key_scope}  {values}"
            )
    typer.echo(_summary(report))
    if json_out is not None:
        json_out.write_text(json.dumps(_report_json(report), indent=2), encoding="utf-8")


def _report_json(report: SweepReport) -> dict[str, object]:
    return {
        "runId": report.run_id,
        "dryRun": report.dry_run,
        "asOf": report.as_of.isoformat(),
        "due": report.due,
        "erased": report.redacted,
        "onHold": report.on_hold,
        "meetings": report.meetings,
        "idempotencyPurged": report.idempotency_purged,
        "seconds": round(report.seconds, 3),
        "items": [
            {
                "caseId": i.case_id,
                "covenantId": i.covenant_id,
                "ruleId": i.rule_id,
                "dueOn": i.due_on.isoformat(),
                "keyScope": i.key_scope,
                "values": i.values,
            }
            for i in report.items
        ],
    }


@app.command("rules")
def rules(data_dir: DataDir = None) -> None:
    """Show every covenant's retention rules (and the rules revision)."""
    from gateway.core.cli import load_settings
    from gateway.retention.rules import load_rules

    settings = load_settings(data_dir)
    loaded = load_rules(
        settings.covenant_dir,
        default_months=settings.retention_default_period_months,
        unsanctioned_months=settings.retention_unsanctioned_period_months,
        inactive_months=settings.retention_inactive_period_months,
    )
    periods = ", ".join(f"{name} {p.text()}" for name, p in loaded.named_periods.items())
    typer.echo(f"revision {loaded.revision}; default periods: {periods}")
    for covenant_id, policy in sorted(loaded.policies.items()):
        typer.echo(covenant_id)
        for rule in policy.rules:
            typer.echo(f"  {rule.id}: {rule.description}")
        if policy.open_cases is not None:
            typer.echo(f"  {policy.open_cases.id}: {policy.open_cases.description}")


#: The operator's name as the command records it (``--operator``; default the login name).
_OPERATOR_NAME = r"[A-Za-z0-9][A-Za-z0-9._@\-]{0,99}"


class _Refused(Exception):
    """A lift the command refuses, with the message the operator reads (exit code 1)."""


@app.command("lift-hold")
def lift_hold(
    case_id: Annotated[str, typer.Argument(help="The case's id (caseId), as the API names it.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why the hold ends (3-500 characters; no personal data): stored with the "
            "hold, never written to the audit log or shown again by this command.",
        ),
    ],
    operator: Annotated[
        str | None,
        typer.Option(
            "--operator",
            help="Who lifts it: your name or login (default: the login name), recorded with "
            "the hold and, pseudonymised, in the audit log.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Lift a case's legal hold, whoever set it: for a hold its setting partner can no
    longer lift (the API lets only that partner). Audited (activity legal-hold-lifted, the
    operator as requester). A case past its retention period is erased by the next sweep."""
    import getpass
    import re

    from pydantic import ValidationError

    from gateway.retention.schemas import LegalHoldIn

    try:
        reason = LegalHoldIn.model_validate({"reason": reason}).reason
    except ValidationError:
        typer.echo(
            "error: --reason is 3 to 500 characters of text (why the hold ends; no personal data)",
            err=True,
        )
        raise typer.Exit(2) from None
    name = operator if operator is not None else getpass.getuser()
    if not re.fullmatch(_OPERATOR_NAME, name):
        typer.echo(
            "error: --operator is a name or login of letters, digits and . _ @ - "
            "(at most 100 characters)",
            err=True,
        )
        raise typer.Exit(2)
    with _context(data_dir) as context:
        try:
            hold_id, shown = _hold_to_lift(context, case_id)
        except _Refused as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(shown)
        if not yes and not typer.confirm("Lift this legal hold?", default=False):
            typer.echo("Not lifted.", err=True)
            raise typer.Exit(1)
        _lift(context, case_id, reason, name, hold_id)
    typer.echo(
        f"Lifted the legal hold on case {case_id} (as {name}; audited). If its retention "
        "period has ended, the next retention run erases it."
    )


def _hold_to_lift(context: GatewayContext, case_id: str) -> tuple[str, str]:
    """The case's active hold's id, and what the operator is shown of it: when and by which
    partner it was set, never its reason (the command's output may end up in a job's log)."""
    from gateway.cases.models import CaseFile
    from gateway.core.dutch_date import dutch_date, dutch_today
    from gateway.retention.models import RetentionCase
    from gateway.retention.service import active_hold, hold_setter, retention_state

    with context.session_factory() as session:
        row = session.get(RetentionCase, case_id)
        if row is None:
            if session.get(CaseFile, case_id) is None:
                raise _Refused(f"no case with id {case_id!r}")
            raise _Refused(f"case {case_id} has no legal hold")
        if row.erased_at is not None:
            raise _Refused(
                f"case {case_id} was erased under rule {row.erased_rule_id} on "
                f"{dutch_date(row.erased_at).isoformat()}; it has no legal hold"
            )
        hold = active_hold(session, case_id)
        if hold is None:
            raise _Refused(f"case {case_id} has no legal hold")
        # What the lift lets happen, before the operator confirms it (review7b finding 3).
        # Read, not stored: a refresh of a stale row here is rolled back (the sweep does it).
        state = retention_state(
            session=session, rules=context.require_retention().rules, case_id=case_id
        )
        session.rollback()
        return hold.id, (
            f"Case {case_id} ({row.covenant_id}): legal hold set on "
            f"{dutch_date(hold.set_at).isoformat()} by partner {hold_setter(hold)}.\n"
            f"{_after_the_lift(state.due_on, state.rule_id, dutch_today())}"
        )


def _after_the_lift(due_on: date | None, rule_id: str | None, today: date) -> str:
    """What lifting the hold lets the retention sweep do to the case."""
    if due_on is None:
        return (
            "Its retention period has no end date (yet): the next retention run erases "
            "nothing of it when the hold is lifted."
        )
    if due_on <= today:
        return (
            f"Its retention period ended on {due_on.isoformat()} (rule {rule_id}): once the "
            "hold is lifted, the next retention run ERASES THE WHOLE DOSSIER. This cannot "
            "be undone."
        )
    return (
        f"Its retention period ends on {due_on.isoformat()} (rule {rule_id}): from then on, "
        "without a hold, a retention run erases the dossier."
    )


def _lift(context: GatewayContext, case_id: str, reason: str, operator: str, hold_id: str) -> None:
    from gateway.core.errors import GatewayError
    from gateway.db import transaction
    from gateway.retention.service import operator_lift_legal_hold

    try:
        with transaction(context.session_factory) as session:
            operator_lift_legal_hold(
                session=session,
                audit=context.audit,
                case_id=case_id,
                reason=reason,
                operator=operator,
                hold_id=hold_id,
            )
    except GatewayError as exc:  # lifted or erased meanwhile, or the hold changed
        typer.echo(f"error: not lifted: {exc.detail}", err=True)
        raise typer.Exit(1) from None
