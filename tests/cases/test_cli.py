"""``ketenpoort deadlines`` (or ``cases deadlines``) and ``ketenpoort cases report``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from gateway.auth.principal import Principal
from gateway.cases.intake import register_report
from gateway.cases.models import CaseFile
from gateway.cases.schemas import IntakeRequest, TransitionRequest
from gateway.cases.workflow import apply_transition
from gateway.cli import app
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.demo.clock import date_case_back
from tests.cases.builders import principal, report_body
from tests.steering_periods import this_month_ended

POLICE = principal(
    "politie-midden-nederland", "police", "wijkagent", "utrecht-extreme-woonoverlast"
)


def _late_report(context: GatewayContext) -> str:
    # Received and registered two weeks ago: U Centraal's five days run from the registration
    # (review8a F3), so the report must have been registered then to be late now.
    then = datetime.now(UTC) - timedelta(days=14)
    body = report_body(received_at=then)
    with transaction(context.session_factory) as session:
        return register_report(
            session,
            runtime=context.cases,
            principal=POLICE,
            request=IntakeRequest.model_validate(body),
            now=then,
        ).reference


@pytest.mark.parametrize("command", [["deadlines"], ["cases", "deadlines"]], ids=" ".join)
def test_deadlines_lists_overdue_first_and_exits_1(
    context: GatewayContext, database_url: str, command: list[str]
) -> None:
    reference = _late_report(context)
    result = CliRunner().invoke(
        app,
        [*command, "--partner", "u-centraal", "--json"],
        env={"KETENPOORT_DATABASE_URL": database_url},
    )
    assert result.exit_code == 1, result.output
    items = json.loads(result.stdout)
    assert items[0]["overdue"] is True
    assert items[0]["reference"] == reference
    assert items[0]["deadline"] == "intake-decision"


@pytest.mark.parametrize("command", [["deadlines"], ["cases", "deadlines"]], ids=" ".join)
def test_deadlines_of_an_unknown_partner_is_an_error(database_url: str, command: list[str]) -> None:
    result = CliRunner().invoke(
        app,
        [*command, "--partner", "nobody"],
        env={"KETENPOORT_DATABASE_URL": database_url},
    )
    assert result.exit_code == 2


def _report_figures(database_url: str) -> dict[str, object]:
    with this_month_ended():
        result = CliRunner().invoke(
            app,
            ["cases", "report", "--covenant", "utrecht-extreme-woonoverlast"],
            env={"KETENPOORT_DATABASE_URL": database_url},
        )
    assert result.exit_code == 0, result.output
    figures: dict[str, object] = json.loads(result.stdout)
    return figures


def test_report_prints_the_steering_figures(context: GatewayContext, database_url: str) -> None:
    _late_report(context)
    figures = _report_figures(database_url)
    # The operator's figures are exact (review14: the partners' are perturbed), so the one
    # case is 1 here.
    assert (figures["perturbed"], figures["noiseBound"]) == (False, 0)
    # One case in intake: a phase under the minimum group size is left out, its total stays.
    assert (figures["openCases"], figures["openByPhase"], figures["suppressedPhases"]) == (1, {}, 1)
    assert figures["overdueDeadlines"] == 1
    # Erased under retention, the open case is no open work (the figures above: its control).
    assert context.require_retention().sweep(as_of=date(2030, 1, 1)).redacted == 1
    figures = _report_figures(database_url)
    assert (figures["openCases"], figures["suppressedPhases"], figures["overdueDeadlines"]) == (
        0,
        0,
        0,
    )
    # Opened in the period still counts (tests/cases/test_erased_case_figures.py); one case
    # is under the minimum group size, so the figure is left out. The default period is
    # this month since review14 (one month, not twelve): the case, opened two weeks ago,
    # is in it from the 15th on, before that it was opened last month (0).
    amsterdam = ZoneInfo("Europe/Amsterdam")
    opened = (datetime.now(UTC) - timedelta(days=14)).astimezone(amsterdam)
    if opened.month == datetime.now(amsterdam).month:
        assert figures["casesOpened"] is None
        assert figures["suppressedFigures"] == ["casesOpened"]
    else:
        assert figures["casesOpened"] == 0
        assert figures["suppressedFigures"] == []


def _move(
    context: GatewayContext, case_id: str, who: Principal, transition: str, **facts: Any
) -> None:
    with transaction(context.session_factory) as session:
        apply_transition(
            session,
            runtime=context.cases,
            case_id=case_id,
            principal=who,
            request=TransitionRequest.model_validate({"transition": transition, **facts}),
        )


def test_notices_lists_the_hand_over_to_the_corporation(
    context: GatewayContext, database_url: str
) -> None:
    """R §2.3: the municipality is told that the corporation took the lead back; the CLI
    lists the unread notice with the case's lead now, and nothing for another partner."""
    covenant = "rijswijk-woonoverlast"
    corporation = principal("rijswijk-wonen", "housing-corporation", "woonconsulent", covenant)
    mayor = principal("gemeente-rijswijk", "municipality", "casemanager", covenant)
    body = report_body(postcode="2281 CC", corporation="rijswijk-wonen", persons=[])
    with transaction(context.session_factory) as session:
        case_id = register_report(
            session,
            runtime=context.cases,
            principal=corporation,
            request=IntakeRequest.model_validate(body),
        ).case_id
    assert case_id is not None
    # Complex (the lead moves to the municipality), then put straight into the integrated
    # approach (the API tests walk the whole path), where the intention is announced; its
    # term (R Bijlage E) passes before the hand-over (history dated back, review8a F4).
    _move(context, case_id, corporation, "classify-complex")
    with transaction(context.session_factory) as session:
        session.execute(
            update(CaseFile).where(CaseFile.id == case_id).values(state="integrated-approach")
        )
    _move(context, case_id, mayor, "announce-intention", days=7)
    with transaction(context.session_factory) as session:
        date_case_back(session, case_id, 8)
    _move(context, case_id, corporation, "hand-over-to-corporation")
    env = {"KETENPOORT_DATABASE_URL": database_url}
    result = CliRunner().invoke(
        app, ["cases", "notices", "--partner", "gemeente-rijswijk", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [(i["caseId"], i["subject"], i["fromPartnerId"], i["leadPartnerId"]) for i in items] == [
        (case_id, "transition:hand-over-to-corporation", "rijswijk-wonen", "rijswijk-wonen")
    ]
    text = CliRunner().invoke(app, ["cases", "notices", "--partner", "gemeente-rijswijk"], env=env)
    assert "transition:hand-over-to-corporation" in text.stdout
    assert "lead: rijswijk-wonen" in text.stdout
    other = CliRunner().invoke(app, ["cases", "notices", "--partner", "vidomes"], env=env)
    assert other.exit_code == 0
    assert "No unread notices." in other.stdout
    unknown = CliRunner().invoke(app, ["cases", "notices", "--partner", "nobody"], env=env)
    assert unknown.exit_code == 2
