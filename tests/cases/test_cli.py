"""``ketenpoort deadlines`` (or ``cases deadlines``) and ``ketenpoort cases report``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from gateway.cases.intake import register_report
from gateway.cases.schemas import IntakeRequest
from gateway.cli import app
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import principal, report_body

POLICE = principal(
    "politie-midden-nederland", "police", "wijkagent", "utrecht-extreme-woonoverlast"
)


def _late_report(context: GatewayContext) -> str:
    body = report_body(received_at=datetime.now(UTC) - timedelta(days=14))
    with transaction(context.session_factory) as session:
        return register_report(
            session,
            runtime=context.services["cases"],
            principal=POLICE,
            request=IntakeRequest.model_validate(body),
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


def test_report_prints_the_steering_figures(context: GatewayContext, database_url: str) -> None:
    _late_report(context)
    result = CliRunner().invoke(
        app,
        ["cases", "report", "--covenant", "utrecht-extreme-woonoverlast"],
        env={"KETENPOORT_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["openByPhase"] == {"intake": 1}
    assert figures["overdueDeadlines"] == 1
