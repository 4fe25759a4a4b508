"""A partner the lead only consults is listed to the lead and to itself only (review9a F3).

U §5.6: "Het buurtteam meldt de casemanager desgevraagd of een overlastveroorzaker en/of
klager bij het buurtteam bekend is en, zo ja, geeft de naam door van de betrokken
hulpverlener." The question and its answer are the case manager's (covenant file
U-5.6-bekend-buurtteam: health data, recipients [casemanager]); that the youth-and-family team
was asked at all tells that the household may be known to it. Being asked is not being one
of "de andere partijen die bij de casus zijn betrokken" (U §6). Before, the case manager could
ask only after adding the team to the case team, which the police, the corporations and their
adapters and privacy officers read in the summary, also after a "no".

Each refusal has its control: the lead reads the consulted member and the answer, a member
added as involved is listed to the whole team as before, and a consulted member marked
involved is listed from then on."""

from __future__ import annotations

from typing import Any

from tests.exchange.conftest import CASE_MANAGER, MITROS, POLICE, WIJKAGENT, UtrechtCase

ASKED = "buurtteam-jeugd-gezin"
ITS_ADAPTER = (ASKED, "adapter")
ITS_WORKER = (ASKED, "buurtteam-medewerker")
OTHER_TEAM = "buurtteam-sociaal"
KNOWN = "neighbourhood-team-known"  # U §5.6: "desgevraagd of een overlastveroorzaker ... bekend is"
CARE_WORKER = "neighbourhood-team-care-worker"
RISK = "police-risk-assessment"  # U-5.3-risico: buurtteam-medewerker among its recipients

#: Team members that are not the lead: the police's people, system and privacy officer, the
#: landlord's housing officer and privacy officer.
OTHERS = [
    WIJKAGENT,
    POLICE,
    ("politie-midden-nederland", "privacy-officer"),
    MITROS,
    ("mitros", "privacy-officer"),
]


def _team(case: UtrechtCase, partner: str, **body: Any) -> Any:
    return case.post("team", {"partnerId": partner, **body}, CASE_MANAGER)


def _summary(case: UtrechtCase, who: tuple[str, str]) -> dict[str, Any]:
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _ask(case: UtrechtCase, who: tuple[str, str], **body: Any) -> Any:
    return case.client.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "intake-assessment", **body},
        headers=case.as_(who, "u-1"),
    )


def test_the_consulted_neighbourhood_team_is_listed_to_the_lead_and_itself_only(
    utrecht_case: UtrechtCase,
) -> None:
    case = utrecht_case
    added = _team(case, ASKED, consulted=True)
    assert added.status_code == 200, added.text
    assert ASKED in added.json()  # the lead's own answer names it
    asked = _ask(case, CASE_MANAGER, recipients=[{"partnerId": ASKED, "categories": [KNOWN]}])
    assert asked.status_code == 201, asked.text
    assert [(i["partnerId"], i["state"]) for i in asked.json()["items"]] == [(ASKED, "asked")]
    answered = case.answer(asked.json()["id"], [{"category": KNOWN, "yesNo": False}], ITS_ADAPTER)
    assert answered.status_code == 200, answered.text

    for who in OTHERS:
        summary = _summary(case, who)
        assert ASKED not in summary["team"], who
        assert summary["consultedPartners"] == [], who
        assert "consultedPartners" in summary["withheld"], who
        assert summary["team"] == ["mitros", "politie-midden-nederland", "u-centraal"], who

    # Positive controls: the lead reads whom it consulted and the answer (U §5.6: "meldt de
    # casemanager"); the consulted team reads itself.
    lead = _summary(case, CASE_MANAGER)
    assert ASKED in lead["team"]
    assert lead["consultedPartners"] == [ASKED]
    assert "consultedPartners" not in lead["withheld"]
    read = case.read(asked.json()["id"])
    assert [(v["category"], v["outcome"], v["yesNo"]) for v in read["values"]] == [
        (KNOWN, "disclosed", False)
    ], read
    own = _summary(case, ITS_WORKER)
    assert ASKED in own["team"]
    assert own["consultedPartners"] == [ASKED]


def test_the_withheld_field_does_not_tell_whether_anyone_was_consulted(
    utrecht_case: UtrechtCase,
) -> None:
    """``consultedPartners`` is withheld from every reader but the lead's partner whether or
    not there is one, so the summary reads the same with and without a consulted member."""
    before = {who: _summary(utrecht_case, who) for who in OTHERS}
    assert _team(utrecht_case, ASKED, consulted=True).status_code == 200
    for who in OTHERS:
        after = _summary(utrecht_case, who)
        assert (after["team"], after["consultedPartners"], after["withheld"]) == (
            before[who]["team"],
            before[who]["consultedPartners"],
            before[who]["withheld"],
        ), who


def test_a_partner_added_as_involved_is_listed_to_the_whole_team(
    utrecht_case: UtrechtCase,
) -> None:
    """Positive control: as before this change (the default), and a consulted member the lead
    marks involved is listed from then on."""
    assert _team(utrecht_case, OTHER_TEAM).status_code == 200
    assert OTHER_TEAM in _summary(utrecht_case, WIJKAGENT)["team"]
    assert _team(utrecht_case, ASKED, consulted=True).status_code == 200
    assert ASKED not in _summary(utrecht_case, WIJKAGENT)["team"]
    marked = _team(utrecht_case, ASKED)
    assert marked.status_code == 200, marked.text
    for who in OTHERS:
        assert ASKED in _summary(utrecht_case, who)["team"], who
    assert _summary(utrecht_case, CASE_MANAGER)["consultedPartners"] == []
    # Once the whole team has read it, it cannot be made consulted again.
    again = _team(utrecht_case, ASKED, consulted=True)
    assert again.status_code == 422, again.text
    assert ASKED in _summary(utrecht_case, WIJKAGENT)["team"]


def test_another_member_cannot_find_the_consulted_team_by_addressing_it(
    utrecht_case: UtrechtCase,
) -> None:
    """A request by another team member answers about a consulted partner exactly as about
    a partner outside the team: by name and by category (the default addressing)."""
    case = utrecht_case
    by_name = [{"partnerId": ASKED, "categories": [KNOWN]}]
    outside_by_name = _ask(case, WIJKAGENT, recipients=by_name)
    outside_by_category = _ask(case, WIJKAGENT, categories=[KNOWN])
    assert (outside_by_name.status_code, outside_by_category.status_code) == (422, 422)
    assert _team(case, ASKED, consulted=True).status_code == 200
    consulted_by_name = _ask(case, WIJKAGENT, recipients=by_name)
    consulted_by_category = _ask(case, WIJKAGENT, categories=[KNOWN])
    assert consulted_by_name.status_code == 422, consulted_by_name.text
    assert consulted_by_name.json()["detail"] == outside_by_name.json()["detail"]
    assert consulted_by_category.status_code == 422, consulted_by_category.text
    assert consulted_by_category.json()["detail"] == outside_by_category.json()["detail"]
    # Control: the lead addresses it by category as well.
    lead = _ask(case, CASE_MANAGER, categories=[KNOWN, CARE_WORKER])
    assert lead.status_code == 201, lead.text
    assert {i["partnerId"] for i in lead.json()["items"]} == {ASKED}


def test_a_consulted_member_receives_nothing_under_the_case_team_condition(
    utrecht_case: UtrechtCase,
) -> None:
    """Being asked is not being involved (U §6): the policy's case team is the involved one,
    so the wijkagent's risk assessment (U-5.3-risico, "de casemanager en andere
    betrokkenen") is refused to a consulted neighbourhood team and given once it is
    involved (control). Since review10 F2 its query is refused before the policy decides
    (403 ``consulted-only``): it queries nothing of its own."""
    case = utrecht_case
    pushed = case.client.post(
        "/v1/case-facts",
        json={"caseId": case.case_id, "category": RISK, "value": "Agressie bij huisbezoek."},
        headers=case.as_(POLICE),
    )
    assert pushed.status_code == 201, pushed.text
    assert _team(case, ASKED, consulted=True).status_code == 200

    def query() -> Any:
        return case.client.post(
            "/v1/case-facts/queries",
            json={"caseId": case.case_id, "purpose": "safety", "categories": [RISK]},
            headers=case.as_(ITS_WORKER, "bt-1"),
        )

    refused = query()
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/consulted-only")
    assert _team(case, ASKED).status_code == 200
    allowed = query()
    assert allowed.status_code == 200, allowed.text
    assert [(v["outcome"], v["value"]) for v in allowed.json()["values"]] == [
        ("disclosed", "Agressie bij huisbezoek.")
    ], allowed.json()


def test_the_consulted_member_can_be_removed_and_then_sees_nothing(
    utrecht_case: UtrechtCase,
) -> None:
    case = utrecht_case
    assert _team(case, ASKED, consulted=True).status_code == 200
    assert case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(ITS_WORKER)).is_success
    removed = case.client.delete(
        f"/v1/cases/{case.case_id}/team/{ASKED}", headers=case.as_(CASE_MANAGER)
    )
    assert removed.status_code == 200, removed.text
    assert ASKED not in removed.json()
    gone = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(ITS_WORKER))
    assert gone.status_code == 404, gone.text
    assert _summary(case, CASE_MANAGER)["consultedPartners"] == []


def test_a_meeting_action_about_the_case_is_not_given_to_a_consulted_member(
    utrecht_case: UtrechtCase,
) -> None:
    """The action names its owner with the case to every team member reading the meeting,
    so a consulted member is given none until the lead marks it involved (control)."""
    case = utrecht_case
    assert _team(case, ASKED, consulted=True).status_code == 200
    planned = case.client.post(
        "/v1/meetings",
        json={"district": "binnenstad", "scheduledOn": "2099-01-05"},
        headers=case.as_(CASE_MANAGER),
    )
    assert planned.status_code == 201, planned.text
    action = {
        "caseId": case.case_id,
        "ownerPartnerId": ASKED,
        "description": "Huisbezoek",
        "dueOn": "2099-01-19",
    }
    path = f"/v1/meetings/{planned.json()['id']}/actions"
    refused = case.client.post(path, json=action, headers=case.as_(CASE_MANAGER))
    assert refused.status_code == 422, refused.text
    outsider = case.client.post(
        path, json={**action, "ownerPartnerId": OTHER_TEAM}, headers=case.as_(CASE_MANAGER)
    )
    assert outsider.status_code == 422, outsider.text
    assert refused.json()["detail"] == outsider.json()["detail"].replace(OTHER_TEAM, ASKED)
    assert _team(case, ASKED).status_code == 200
    given = case.client.post(path, json=action, headers=case.as_(CASE_MANAGER))
    assert given.status_code == 201, given.text
