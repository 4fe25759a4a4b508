"""The corporation's own sanctions, recorded as case events, are sanctions for R §3.4
(review8a F2).

R §3.4 keeps the dossier of heavier nuisance "zolang de bewoner het pand bewoont en maximaal
twee jaar nadat eventuele sancties tegen de overlastgever zijn ingezet"; R Bijlage D "Fase
4a: Sanctie Gedragsaanwijzing en/of 'Laatste kans beleid'", Bijlage E "gedragsaanwijzing
en/of laatste kans beleid bij een woningcorporatiewoning". After the hand-over (R §2.3) the
corporation records its behavioural order, last-chance contract and eviction procedure as
case events (docs/cases.md). Before, only the workflow's measures counted: the case went
under R-3.4-zonder-sancties, closure + 12 months, a year early. Through the API, on the
documented hand-over path; the control: a case with only the warning and the intention.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.core.dutch_date import dutch_date
from tests.cases.test_lead_returns_to_corporation import (
    HAND_OVER,
    MAYOR,
    RW,
    VIDOMES,
    _case_at_intention,
    _move,
    _ok,
)

Auth = Callable[..., dict[str, str]]
RESULT = {"neighboursJudgement": "resolved", "partnersJudgement": "improved", "aftercare": "none"}


def _event(client: TestClient, auth: Auth, case_id: str, who: Any, event: str, **kw: Any) -> None:
    recorded = client.post(
        f"/v1/cases/{case_id}/events", json={"event": event, **kw}, headers=auth(*who)
    )
    assert recorded.status_code == 201, recorded.text


def _close(client: TestClient, auth: Auth, case_id: str, who: Any) -> None:
    _ok(_move(client, auth(*who), case_id, "nuisance-stopped"))
    _ok(_move(client, auth(*who), case_id, "close", result=RESULT))


def _retention(client: TestClient, auth: Auth, case_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*MAYOR))
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


def test_the_corporations_sanctions_after_the_hand_over_keep_the_dossier_two_years(
    client: TestClient, auth: Auth
) -> None:
    case_id = _case_at_intention(client, auth)
    _ok(_move(client, auth(*RW), case_id, HAND_OVER))
    today = dutch_date(datetime.now(UTC))
    ordered = today - timedelta(days=20)
    _event(client, auth, case_id, RW, "behavioural-order", occurredOn=ordered.isoformat())
    _event(client, auth, case_id, RW, "last-chance-contract")  # no day given: recorded today
    _close(client, auth, case_id, RW)
    state = _retention(client, auth, case_id)
    assert state["ruleId"] == "R-3.4-zwaar", state
    # The last sanction is the contract, recorded today: two years from it.
    assert date.fromisoformat(state["sourceDate"]) == today
    assert date.fromisoformat(state["dueOn"]) == date(today.year + 2, today.month, today.day)
    assert "last-sanction-imposed on" in state["reason"]


def test_the_day_the_landlord_gave_dates_the_sanction(client: TestClient, auth: Auth) -> None:
    case_id = _case_at_intention(client, auth)
    _ok(_move(client, auth(*RW), case_id, HAND_OVER))
    started = dutch_date(datetime.now(UTC)) - timedelta(days=40)
    _event(client, auth, case_id, RW, "eviction-procedure", occurredOn=started.isoformat())
    _close(client, auth, case_id, RW)
    state = _retention(client, auth, case_id)
    assert (state["ruleId"], state["sourceDate"]) == ("R-3.4-zwaar", started.isoformat())


def test_control_a_warning_and_an_intention_only_are_no_sanction(
    client: TestClient, auth: Auth
) -> None:
    """Bijlage E: the warning and the intention only set a grace period."""
    case_id = _case_at_intention(client, auth)
    _ok(_move(client, auth(*RW), case_id, HAND_OVER))
    _close(client, auth, case_id, RW)
    state = _retention(client, auth, case_id)
    assert state["ruleId"] == "R-3.4-zonder-sancties", state


def test_control_an_event_not_recorded_by_the_dwellings_landlord_is_no_sanction(
    client: TestClient, auth: Auth
) -> None:
    """Only the dwelling's landlord records the corporation's measures; the policy counts an
    event only while its recorder is the landlord (authz.rego ``recorded_events``). Another
    corporation is refused at the route, and its attempt leaves the dossier's rule alone."""
    case_id = _case_at_intention(client, auth)
    _ok(_move(client, auth(*RW), case_id, HAND_OVER))
    refused = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "behavioural-order"},
        headers=auth(*VIDOMES),
    )
    assert refused.status_code in (403, 404), refused.text
    _close(client, auth, case_id, RW)
    assert _retention(client, auth, case_id)["ruleId"] == "R-3.4-zonder-sancties"
