"""``ketenpoort cases ...``: deadlines, notices and the steering-group report from the
command line (for cron or a case manager's terminal). Read-only; no personal data is
printed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from gateway.cases.runtime import CaseRuntime
from gateway.config import Settings

app = typer.Typer(no_args_is_help=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (default: KETENPOORT_DATA_DIR or ./ketenpoort-data).",
        envvar="KETENPOORT_DATA_DIR",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _read_only_runtime(settings: Settings) -> CaseRuntime:
    from gateway.cases.definition import load_workflows
    from gateway.cases.seams import UnavailableAudit, UnavailableSealer
    from gateway.policy.covenant import load_covenants

    # Reading deadlines and figures seals nothing and changes nothing, so no keys are opened.
    # An open case erased under retention is no open work here either, as in the API (the
    # sweep marks it on the case: gateway/cases/live.py).
    return CaseRuntime(
        workflows=load_workflows(settings.covenant_dir),
        covenants=load_covenants(settings.covenant_dir),
        sealer=UnavailableSealer(),
        audit=UnavailableAudit(),
    )


@app.command("deadlines")
def deadlines(
    partner: Annotated[str, typer.Option(help="Partner id, e.g. u-centraal or mitros.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """What is due for the partner's cases, its meeting actions and district meetings;
    overdue first. Exit code 1 when anything is overdue (for monitoring)."""
    from gateway.cases.overview import partner_deadlines
    from gateway.db import make_engine, make_sessionmaker

    settings = _settings(data_dir)
    runtime = _read_only_runtime(settings)
    covenant = next((c for c in runtime.covenants.values() if c.partner(partner)), None)
    found = covenant.partner(partner) if covenant else None
    if covenant is None or found is None:
        raise _fail(f"unknown partner '{partner}'")
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            items = partner_deadlines(
                session,
                runtime=runtime,
                covenant_id=covenant.id,
                partner_id=partner,
                partner_kind=found.kind,
            )
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([i.model_dump(mode="json", by_alias=True) for i in items], indent=2))
    else:
        for item in items:
            flag = "OVERDUE" if item.overdue else "due"
            where = item.reference or item.district or item.case_id or "-"
            when = item.due_on.isoformat() if item.due_on else item.due_at.isoformat()
            typer.echo(f"{flag:8} {when:25} {item.deadline:32} {where}")
        if not items:
            typer.echo("Nothing due.")
    if any(i.overdue for i in items):
        raise typer.Exit(1)


@app.command("notices")
def notices(
    partner: Annotated[str, typer.Option(help="Partner id, e.g. gemeente-rijswijk.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the partner is told of and has not marked read (R §2.3: the corporation took a
    rented dwelling's lead back, or recorded a legal measure), with the case's lead now.
    Mark one read with the API or the case page."""
    from sqlalchemy import select

    from gateway.cases.models import CaseFile, CaseNotice
    from gateway.db import make_engine, make_sessionmaker

    settings = _settings(data_dir)
    runtime = _read_only_runtime(settings)
    if not any(c.partner(partner) for c in runtime.covenants.values()):
        raise _fail(f"unknown partner '{partner}'")
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(CaseNotice, CaseFile.reference, CaseFile.lead_partner_id)
                .join(CaseFile, CaseFile.id == CaseNotice.case_id)
                .where(CaseNotice.partner_id == partner, CaseNotice.read_at.is_(None))
                .order_by(CaseNotice.created_at, CaseNotice.id)
            ).all()
    finally:
        engine.dispose()
    items = [
        {
            "id": notice.id,
            "caseId": notice.case_id,
            "reference": reference,
            "subject": notice.subject,
            "fromPartnerId": notice.from_partner_id,
            "leadPartnerId": lead,
            "createdAt": notice.created_at.isoformat(),
        }
        for notice, reference, lead in rows
    ]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    for item in items:
        typer.echo(
            f"{item['createdAt'][:16]:17} {item['reference']:18} {item['subject']:40} "
            f"by {item['fromPartnerId']}; lead: {item['leadPartnerId']}"
        )
    if not items:
        typer.echo("No unread notices.")


@app.command("report")
def report(
    covenant: Annotated[str, typer.Option(help="Covenant id.")],
    period_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First day of a month, quarter or year; default: the last ended month's.",
        ),
    ] = None,
    period_to: Annotated[
        str | None,
        typer.Option("--to", help="Last day of that month, quarter or year (ended), with --from."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """The steering group's figures (JSON): throughput, phases, districts, 3-month share.
    Exact (``perturbed: false``): the partners' API and charts page perturb every count."""
    from gateway.cases.overview import steering_report
    from gateway.cases.steering import PeriodNotAccepted, report_window
    from gateway.db import make_engine, make_sessionmaker

    settings = _settings(data_dir)
    runtime = _read_only_runtime(settings)
    if covenant not in runtime.workflows:
        raise _fail(f"unknown covenant '{covenant}'")
    try:
        asked_to = date.fromisoformat(period_to) if period_to else None
        asked_from = date.fromisoformat(period_from) if period_from else None
    except ValueError:
        raise _fail("dates are YYYY-MM-DD") from None
    # The API's periods (review5a F1): whole months that have ended, one rule for every
    # channel the figures leave by.
    try:
        start, end = report_window(runtime.today(covenant), asked_from, asked_to)
    except PeriodNotAccepted as error:
        raise _fail(error.detail) from None
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            # Exact figures (perturbed false): the operator reads the database itself and
            # needs the true counts to check the report; every partner's channel (the API,
            # the charts page) gets the perturbed ones (review14 F1, F2).
            figures = steering_report(
                session,
                runtime=runtime,
                covenant_id=covenant,
                period_from=start,
                period_to=end,
                perturb=False,
            )
    finally:
        engine.dispose()
    typer.echo(figures.model_dump_json(by_alias=True, indent=2))
