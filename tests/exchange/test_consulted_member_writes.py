"""A member the lead only consulted answers the lead's requests; it pushes, asks, queries and
records nothing of its own on the case (review10 F2).

Being asked (U §5.6 "desgevraagd") is not being one of "de andere partijen die bij de casus
zijn betrokken" (U §6): the consulted member is listed to the lead and to itself only
(review9a F3, service.consulted_shown). Before, it could still push a fact, and every reader
of the category read the fact's ``partnerId``: in Rijswijk the GGD read the fire brigade's
findings, named, while its case summary withheld the fire brigade; in Utrecht the
woonconsulent read the consulted police's risk assessment. Its refusal is a 403
``consulted-only`` that writes nothing, the audit log included.

Each refusal has its control: the same push by an involved fire brigade is read by the GGD,
and a consulted member the lead marks involved pushes, records and is read from then on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    RIJSWIJK_MUNICIPALITY,
    listed_deadlines,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)
from tests.exchange.conftest import (
    ANTECEDENTS,
    CASE_MANAGER,
    MITROS,
    POLICE,
    WIJKAGENT,
    open_utrecht_case,
)

Auth = Callable[..., dict[str, str]]
FIRE_BRIGADE_ID = "brandweer-haaglanden"
FIRE_BRIGADE = (FIRE_BRIGADE_ID, "brandweer-medewerker")
GGD = ("ggd-haaglanden", "zorgmedewerker")
GGD_OFFICER = ("ggd-haaglanden", "privacy-officer")
COORDINATOR = ("gemeente-rijswijk", "privacy-officer")
FINDINGS = "fire-safety-findings"  # R-A-brandweer-bevindingen: casemanager, zorgmedewerker
FINDING = "Brandgevaarlijke opslag."
POLICE_ID = "politie-midden-nederland"
RISK = "police-risk-assessment"  # U-5.3-risico: the woonconsulent among its recipients


def _rijswijk_case(client: TestClient, auth: Auth, *, fire_brigade_consulted: bool) -> str:
    """A Rijswijk case in integrated-approach led by the municipality, with the GGD and the
    police involved and the fire brigade added by the lead, consulted or involved."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "ggd-haaglanden", "politie-den-haag")
    )
    rijswijk_to_integrated_approach(client, auth, case_id)
    added = client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": FIRE_BRIGADE_ID, "consulted": fire_brigade_consulted},
        headers=auth(*RIJSWIJK_MUNICIPALITY),
    )
    assert added.status_code == 200, added.text
    return case_id


def _push(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], **fact: Any) -> Any:
    return client.post("/v1/case-facts", json={"caseId": case_id, **fact}, headers=auth(*who))


def _query(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], purpose: str, category: str
) -> Any:
    return client.post(
        "/v1/case-facts/queries",
        json={"caseId": case_id, "purpose": purpose, "categories": [category]},
        headers=auth(*who, user="u-1"),
    )


def _read(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], purpose: str, category: str
) -> list[tuple[Any, ...]]:
    """(partnerId, outcome, value) of each fact ``who`` is given of ``category`` (a category
    with no fact on file reads as one value of no partner, left out)."""
    read = _query(client, auth, case_id, who, purpose, category)
    assert read.status_code == 200, read.text
    values = read.json()["values"]
    return [(v["partnerId"], v["outcome"], v["value"]) for v in values if v["partnerId"]]


def _consulted_only(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/consulted-only"), response.json()


def _entries(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> list[Any]:
    found = client.post("/v1/audit/entries/search", json={"caseId": case_id}, headers=auth(*who))
    assert found.status_code == 200, found.text
    return found.json()["entries"]  # type: ignore[no-any-return]


def test_a_consulted_fire_brigade_pushes_no_finding_the_ggd_reads_with_its_name(
    client: TestClient, auth: Auth
) -> None:
    case_id = _rijswijk_case(client, auth, fire_brigade_consulted=True)
    pushed = _push(client, auth, case_id, FIRE_BRIGADE, category=FINDINGS, value=FINDING)
    _consulted_only(pushed)
    # Nothing was stored: neither the GGD nor the lead reads a finding, and the log (the
    # coordinating privacy officer reads all of it) holds no recorded fact.
    purpose = "integrated-approach"
    assert _read(client, auth, case_id, GGD, purpose, FINDINGS) == []
    assert _read(client, auth, case_id, RIJSWIJK_MUNICIPALITY, purpose, FINDINGS) == []
    activities = [e["activity"] for e in _entries(client, auth, case_id, COORDINATOR)]
    assert "case-fact-recorded" not in activities
    # The GGD's summary withholds the fire brigade, as before.
    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*GGD)).json()
    assert FIRE_BRIGADE_ID not in summary["team"]

    # Control: marked involved by the lead, it pushes, and the GGD reads the finding.
    marked = client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": FIRE_BRIGADE_ID},
        headers=auth(*RIJSWIJK_MUNICIPALITY),
    )
    assert marked.status_code == 200, marked.text
    again = _push(client, auth, case_id, FIRE_BRIGADE, category=FINDINGS, value=FINDING)
    assert again.status_code == 201, again.text
    assert _read(client, auth, case_id, GGD, purpose, FINDINGS) == [
        (FIRE_BRIGADE_ID, "disclosed", FINDING)
    ]


def test_an_involved_fire_brigade_pushes_a_finding_the_ggd_reads(
    client: TestClient, auth: Auth
) -> None:
    """Positive control of the probe: the fire brigade added involved, as before."""
    case_id = _rijswijk_case(client, auth, fire_brigade_consulted=False)
    pushed = _push(client, auth, case_id, FIRE_BRIGADE, category=FINDINGS, value=FINDING)
    assert pushed.status_code == 201, pushed.text
    assert _read(client, auth, case_id, GGD, "integrated-approach", FINDINGS) == [
        (FIRE_BRIGADE_ID, "disclosed", FINDING)
    ]


def test_a_consulted_member_asks_and_queries_nothing_and_no_entry_names_it_to_another_officer(
    client: TestClient, auth: Auth
) -> None:
    """Its own requests and queries are refused before any decision: no audit entry is
    written, so none names it to the GGD's privacy officer (as requester, recipient or data
    owner); the GGD's own read of the findings names no fire brigade either."""
    case_id = _rijswijk_case(client, auth, fire_brigade_consulted=True)
    asked = client.post(
        "/v1/information-requests",
        json={
            "caseId": case_id,
            "purpose": "integrated-approach",
            "recipients": [{"partnerId": "ggd-haaglanden", "categories": ["care-actions"]}],
        },
        headers=auth(*FIRE_BRIGADE, user="bw-1"),
    )
    _consulted_only(asked)
    _consulted_only(_query(client, auth, case_id, FIRE_BRIGADE, "integrated-approach", FINDINGS))
    _consulted_only(_push(client, auth, case_id, FIRE_BRIGADE, category=FINDINGS, value=FINDING))
    assert _read(client, auth, case_id, GGD, "integrated-approach", FINDINGS) == []
    entries = _entries(client, auth, case_id, GGD_OFFICER)
    assert entries, "control: the GGD's privacy officer reads its own read"
    assert FIRE_BRIGADE_ID not in json.dumps(entries)
    by_fire_brigade = [
        e
        for e in _entries(client, auth, case_id, COORDINATOR)
        if (e.get("requester") or {}).get("partnerId") == FIRE_BRIGADE_ID
    ]
    assert by_fire_brigade == []


def test_the_consulted_police_push_no_risk_assessment_and_record_nothing(
    exchange_client: TestClient, auth: Auth
) -> None:
    """Utrecht: the police the case manager only consulted. Their risk assessment reached the
    woonconsulent (U-5.3-risico) named; their investigation status and the OM's consent
    would tell every reader of the case that the police take part in it."""
    case = open_utrecht_case(exchange_client, auth, police_consulted=True)
    client, case_id = case.client, case.case_id
    risk = {"category": RISK, "value": "Agressie bij huisbezoek."}
    _consulted_only(_push(client, auth, case_id, POLICE, **risk))
    assert _read(client, auth, case_id, MITROS, "safety", RISK) == []
    status = client.put(
        f"/v1/cases/{case_id}/investigation-status",
        json={"running": False},
        headers=auth(*WIJKAGENT),
    )
    _consulted_only(status)
    consent = {"kind": "om-consent", "scope": [ANTECEDENTS], "expiresAt": "2099-01-01T00:00:00Z"}
    recorded = client.post(f"/v1/cases/{case_id}/consents", json=consent, headers=auth(*WIJKAGENT))
    _consulted_only(recorded)
    lead = client.get(f"/v1/cases/{case_id}", headers=auth(*CASE_MANAGER)).json()
    assert lead["investigationRunning"] is None
    assert "om-consent" not in [c["kind"] for c in lead["consents"]]

    # Control: marked involved, the police push, record, and the woonconsulent reads them.
    marked = client.post(
        f"/v1/cases/{case_id}/team", json={"partnerId": POLICE_ID}, headers=auth(*CASE_MANAGER)
    )
    assert marked.status_code == 200, marked.text
    assert _push(client, auth, case_id, POLICE, **risk).status_code == 201
    assert _read(client, auth, case_id, MITROS, "safety", RISK) == [
        (POLICE_ID, "disclosed", "Agressie bij huisbezoek.")
    ]
    status = client.put(
        f"/v1/cases/{case_id}/investigation-status",
        json={"running": False},
        headers=auth(*WIJKAGENT),
    )
    assert status.status_code == 200, status.text
    recorded = client.post(f"/v1/cases/{case_id}/consents", json=consent, headers=auth(*WIJKAGENT))
    assert recorded.status_code == 201, recorded.text


def test_a_case_the_organiser_is_only_consulted_in_asks_it_for_no_district_meeting(
    client: TestClient, auth: Auth
) -> None:
    """Rijswijk's organiser is the municipality (workflow ``organiserKind``): a case the
    landlord leads and only consulted it in is no work of its own, so its district asks for
    no meeting; marked involved, it does (control)."""
    case_id = rijswijk_case_led_by_the_landlord(client, auth)
    consulted = client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": "gemeente-rijswijk", "consulted": True},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert consulted.status_code == 200, consulted.text

    def meetings() -> list[Any]:
        items = listed_deadlines(client, auth(*RIJSWIJK_MUNICIPALITY))
        return [i["district"] for i in items if i["kind"] == "district-meeting"]

    assert meetings() == []
    marked = client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": "gemeente-rijswijk"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert marked.status_code == 200, marked.text
    assert meetings() == ["Te Werve"]


def _consulted(client: TestClient, case_id: str, partner: str) -> None:
    """``partner``, involved, is now only consulted, as a member the lead added consulted
    before review10 F2 stopped it recording (the API turns no involved member into a
    consulted one): set in the database."""
    from gateway.cases.models import CaseTeamMember
    from gateway.db import transaction

    context = client.app.state.context  # type: ignore[attr-defined]
    with transaction(context.session_factory) as session:
        session.get_one(CaseTeamMember, (case_id, partner)).consulted = True


def _involved(client: TestClient, auth: Auth, case_id: str, partner: str, lead: Any) -> None:
    """The lead marks the consulted ``partner`` involved (the control)."""
    marked = client.post(f"/v1/cases/{case_id}/team", json={"partnerId": partner}, headers=lead)
    assert marked.status_code == 200, marked.text


def test_a_consulted_member_withdraws_no_consent_of_its_own(
    exchange_client: TestClient, auth: Auth
) -> None:
    """Utrecht: the police record an OM consent while involved, and are then only
    consulted. Withdrawing it is a change of their own to the case (review10 F2's sibling):
    403 ``consulted-only``, the consent stays. Control: involved again, they do."""
    case = open_utrecht_case(exchange_client, auth)
    client, case_id = case.client, case.case_id
    consent = {"kind": "om-consent", "scope": [ANTECEDENTS], "expiresAt": "2099-01-01T00:00:00Z"}
    recorded = client.post(f"/v1/cases/{case_id}/consents", json=consent, headers=auth(*WIJKAGENT))
    assert recorded.status_code == 201, recorded.text
    consent_id = recorded.json()["id"]
    lead = auth(*CASE_MANAGER)
    _consulted(client, case_id, POLICE_ID)
    withdrawal = f"/v1/cases/{case_id}/consents/{consent_id}/withdrawal"
    _consulted_only(client.post(withdrawal, headers=auth(*WIJKAGENT)))
    kept = client.get(f"/v1/cases/{case_id}", headers=auth(*WIJKAGENT)).json()["consents"]
    assert [c["withdrawnAt"] for c in kept if c["id"] == consent_id] == [None]
    _involved(client, auth, case_id, POLICE_ID, lead)
    withdrawn = client.post(withdrawal, headers=auth(*WIJKAGENT))
    assert withdrawn.status_code == 200, withdrawn.text


def test_a_consulted_member_marks_no_notice_read(client: TestClient, auth: Auth) -> None:
    """Rijswijk: after the hand-over the corporation leads and tells the municipality of its
    legal measures (R §2.3, a notice). Once the municipality is only consulted, marking the
    notice read (audited) is refused: 403 ``consulted-only``. Control: involved again, it
    marks it read."""
    from tests.cases.test_lead_returns_to_corporation import (
        HAND_OVER,
        MAYOR,
        RW,
        _case_at_intention,
        _move,
        _notices,
        _ok,
    )

    case_id = _case_at_intention(client, auth)
    _ok(_move(client, auth(*RW), case_id, HAND_OVER))
    (notice,) = _notices(client, auth, MAYOR)
    lead = auth(*RW)
    _consulted(client, case_id, "gemeente-rijswijk")
    read = f"/v1/cases/{case_id}/notices/{notice['requestId']}/acknowledgement"
    _consulted_only(client.post(read, headers=auth(*MAYOR)))
    _involved(client, auth, case_id, "gemeente-rijswijk", lead)
    marked = client.post(read, headers=auth(*MAYOR))
    assert marked.status_code == 200, marked.text
    assert marked.json()["readAt"] is not None
