"""Every command-line option that takes a date or a moment refuses one outside the range the
gateway computes with, or one it cannot read, as the API does: one line on stderr and exit
code 2, never a traceback, nothing stored changed. An in-range value still works (the control).

At the calendar's ends a moment with an offset lies outside it in UTC
(``0001-01-01T00:00:00+01:00`` is in the year 0): converting it overflowed, a traceback and
exit code 1. The range is the API's (``require_instant`` and ``check_date`` with
``EARLIEST``..``LATEST`` in gateway/core/schemas.py), not a second copy.
"""

from __future__ import annotations

import json

import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.retention.models import RetentionRun
from tests.steering_periods import this_month_ended

COVENANT = "utrecht-extreme-woonoverlast"
BEYOND = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
UNREADABLE = ["yesterday", "2026-13-01"]


def _run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        [*args, "--data-dir", str(settings.data_dir)],
        env={
            "KETENPOORT_DATABASE_URL": settings.resolved_database_url,
            "KETENPOORT_DEMO_MODE": "true",
        },
    )


def _refused(result: Result, option: str) -> str:
    """One line, ``error: ...`` naming the option (the API's word for it in a period's check)."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, OverflowError | ValueError), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert option in lines[0], lines[0]
    return lines[0]


# -- ketenpoort audit search / activity --from / --until --------------------------------------


@pytest.mark.parametrize("command", [["audit", "search"], ["audit", "activity"]], ids=" ".join)
@pytest.mark.parametrize("option", ["--from", "--until"])
@pytest.mark.parametrize("value", BEYOND + UNREADABLE)
def test_audit_moments_outside_the_calendar_are_refused(
    context: GatewayContext, settings: Settings, command: list[str], option: str, value: str
) -> None:
    line = _refused(_run(settings, *command, "--covenant", COVENANT, option, value), option)
    if value in BEYOND:
        assert "0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z" in line


@pytest.mark.parametrize("command", [["audit", "search"], ["audit", "activity"]], ids=" ".join)
def test_audit_moments_inside_the_calendar_are_read(
    context: GatewayContext, settings: Settings, command: list[str]
) -> None:
    """The control: the calendar's ends in UTC, a date and a time without offset (UTC)."""
    for since, until in [
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00"),
        ("2026-01-01", "2026-12-31T23:00:00"),
    ]:
        result = _run(settings, *command, "--covenant", COVENANT, "--from", since, "--until", until)
        assert result.exit_code == 0, (result.output, result.exception)
        json.loads(result.stdout)


# -- ketenpoort retention run --as-of ---------------------------------------------------------


@pytest.mark.parametrize("dry_run", [["--dry-run"], []], ids=["dry-run", "run"])
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_retention_as_of_outside_the_range_is_refused(
    context: GatewayContext, settings: Settings, dry_run: list[str], value: str
) -> None:
    result = _run(settings, "retention", "run", *dry_run, "--as-of", value)
    line = _refused(result, "--as-of")
    assert "between 2000-01-01 and 2100-12-31" in line
    with context.session_factory() as session:  # no run recorded, nothing swept
        assert session.scalar(select(func.count()).select_from(RetentionRun)) == 0


@pytest.mark.parametrize("value", UNREADABLE + BEYOND)
def test_retention_as_of_that_is_no_date_is_refused(
    context: GatewayContext, settings: Settings, value: str
) -> None:
    _refused(_run(settings, "retention", "run", "--dry-run", "--as-of", value), "--as-of")


@pytest.mark.parametrize("value", ["2000-01-01", "2100-12-31", "2030-06-15"])
def test_retention_as_of_inside_the_range_sweeps(
    context: GatewayContext, settings: Settings, value: str
) -> None:
    result = _run(settings, "retention", "run", "--dry-run", "--as-of", value)
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"Dry run as of {value}" in result.stdout


# -- ketenpoort cases report --from / --to ----------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--to", "0001-01-31"),
        ("--to", "9999-12-31"),
        ("--from", "0001-01-01"),
        ("--from", "9999-12-01"),
        ("--to", "yesterday"),
        ("--from", "2026-13-01"),
    ],
)
def test_steering_report_dates_outside_the_range_are_refused(
    context: GatewayContext, settings: Settings, option: str, value: str
) -> None:
    with this_month_ended():
        result = _run(settings, "cases", "report", "--covenant", COVENANT, option, value)
    # The period's check names the API's field ("from"/"to"); an unreadable date says how.
    _refused(result, option.lstrip("-") if value[0] in "09" else "YYYY-MM-DD")


def test_steering_report_dates_inside_the_range_report(
    context: GatewayContext, settings: Settings
) -> None:
    with this_month_ended():
        result = _run(
            settings,
            "cases",
            "report",
            "--covenant",
            COVENANT,
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
        )
    assert result.exit_code == 0, (result.output, result.exception)
    figures = json.loads(result.stdout)
    assert figures["periodFrom"] == "2025-01-01"
