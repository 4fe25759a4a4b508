"""The retention state of a case whose dossier is kept for a landlord's measure names the
measure only to whom the case summary showed it (review9a F2, sibling; docs/retention.md
"The corporation's own sanctions", residual 2).

R §3.4 keeps a dossier with sanctions "maximaal twee jaar nadat eventuele sancties tegen de
overlastgever zijn ingezet", and the corporation's behavioural order, last-chance contract
and eviction procedure count (``sanctionEvents``, review8a F2). ``GET /v1/cases/{id}/
retention`` named the rule (``R-3.4-zwaar``: sanctioned) and the last sanction's day to the
whole team, i.e. that the landlord imposed a measure on that day, while the summary shows the
measure only by the clauses of its category (R-A-corporatie-meldingen: the case manager and
the wijkagent, from the weighing to the eviction). Now a reader never shown the measure (the
GGD; the wijkagent while the case stayed in own-approach) reads that a rule applies and the
status, not which rule nor its dates. Positive controls: the municipality's case manager,
the wijkagent (shown it in integrated-approach, also after closure) and the landlord read the
rule and the day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from gateway.retention.service import SANCTION_WITHHELD_REASON
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    RIJSWIJK_MUNICIPALITY,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)

Auth = Callable[..., dict[str, str]]
GGD = ("ggd-haaglanden", "zorgmedewerker")
POLICE = ("politie-den-haag", "wijkagent")
RESULT = {"neighboursJudgement": "resolved", "partnersJudgement": "improved", "aftercare": "none"}


def _record(client: TestClient, auth: Auth, case_id: str) -> None:
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "last-chance-contract", "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text


def _state(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
    assert response.status_code == 200, response.text
    state = response.json()
    records = client.get(f"/v1/cases/{case_id}/retention/records", headers=auth(*who))
    assert records.status_code == 200, records.text
    listed = {(r["ruleId"], r["dueOn"], r["reason"]) for r in records.json()["records"]}
    assert listed <= {(state["ruleId"], state["dueOn"], r[2]) for r in listed}, listed
    return state


def _withheld(state: Any) -> bool:
    hidden = (state["ruleId"], state["sourceDate"], state["dueOn"], state["archiefactiedatum"])
    if hidden == (None, None, None, None):
        assert state["reason"] == SANCTION_WITHHELD_REASON
        assert "2026-11-30" not in str(state)
        return True
    assert state["ruleId"] == "R-3.4-zwaar", state
    return False


def test_the_team_member_never_shown_the_measure_is_not_told_the_rule_nor_its_day(
    client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "ggd-haaglanden", "politie-den-haag")
    )
    rijswijk_to_integrated_approach(client, auth, case_id)
    _record(client, auth, case_id)
    # Open, the case is kept under the open-case rule, which says nothing of sanctions: the
    # same for everyone.
    assert _state(client, auth, case_id, GGD)["ruleId"] == "R-open-zonder-activiteit"
    # Closed: no clause gives the measures any more, but who was shown them keeps knowing
    # why the dossier is kept; who was not is still not told.
    for body in ({"transition": "nuisance-stopped"}, {"transition": "close", "result": RESULT}):
        moved = client.post(
            f"/v1/cases/{case_id}/transitions", json=body, headers=auth(*RIJSWIJK_MUNICIPALITY)
        )
        assert moved.status_code == 200, moved.text
    assert _withheld(_state(client, auth, case_id, GGD))
    assert _withheld(_state(client, auth, case_id, ("ggd-haaglanden", "privacy-officer")))
    # The positive controls: the recipients of the category and the landlord.
    for who in (RIJSWIJK_MUNICIPALITY, POLICE, RIJSWIJK_LANDLORD, ("politie-den-haag", "adapter")):
        state = _state(client, auth, case_id, who)
        assert not _withheld(state), who
        assert state["sourceDate"] == "2026-11-30", who


def test_a_measure_recorded_in_own_approach_is_not_named_to_the_wijkagent(
    client: TestClient, auth: Auth
) -> None:
    """R §3.4: until complex nuisance each partner keeps its own dossier."""
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    _record(client, auth, case_id)
    moved = client.post(
        f"/v1/cases/{case_id}/transitions",
        json={"transition": "classify-simple"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert moved.status_code == 200, moved.text
    for body in ({"transition": "nuisance-stopped"}, {"transition": "close", "result": RESULT}):
        moved = client.post(
            f"/v1/cases/{case_id}/transitions", json=body, headers=auth(*RIJSWIJK_LANDLORD)
        )
        assert moved.status_code == 200, moved.text
    assert _withheld(_state(client, auth, case_id, POLICE))
    assert not _withheld(_state(client, auth, case_id, RIJSWIJK_LANDLORD))
