"""The case summary (GET /v1/cases/{caseId}) is read by the whole case team without a policy
decision, so it carries only what the whole team may know. Whether a police investigation runs
(criminal-law information; U §5.3 shares police information with the case manager only),
the OGGZ check (public mental health, U §5.1) and which U §2 criteria hold (criterion 4:
psychiatry, addiction, crime) go to the readers the sources give them to; the others are told
the fields are withheld. Found by the review of 6 December (F3)."""

from __future__ import annotations

import pytest

from gateway.context import GatewayContext
from tests.cases.builders import audit_activities
from tests.exchange.conftest import CASE_MANAGER, MITROS, POLICE, WIJKAGENT, UtrechtCase

BUURTTEAM_WORKER = ("buurtteam-sociaal", "buurtteam-medewerker")
ASSESSMENT = ["criteria", "oggzTargetGroup", "oggzReferred", "dwellingPollution"]
#: The investigation status and the OM consents that tell it (review2, finding 2).
INVESTIGATION = ["investigationRunning", "omConsents"]
EVERYTHING = [*INVESTIGATION, *ASSESSMENT]
#: The landlord's measures: the case manager's (U-6-corporatie), the lead's and the recorder's.
EVENTS = ["events"]
#: The members the lead only consulted (U §5.6): named to the lead's partner and to themselves
#: only, withheld from every other reader whether or not there is one (review9a F3).
CONSULTED = ["consultedPartners"]
#: Which partner outside the team reported, awaiting the lead (review9a F1).
PENDING = ["pendingReports"]


def _take_on_with_oggz_check(case: UtrechtCase) -> None:
    """The lead records two criteria that hold (one the causer's complex problems) and the
    OGGZ check, takes the case on and adds Mitros and a neighbourhood team to its team."""
    post = case.client.post
    criteria = [
        {"criterion": "dwelling-related", "holds": True},
        {"criterion": "complex-problems", "holds": True},
    ]
    recorded = post(
        f"/v1/cases/{case.case_id}/criteria",
        json={"criteria": criteria},
        headers=case.as_(CASE_MANAGER),
    )
    assert recorded.status_code == 200, recorded.text
    moved = post(
        f"/v1/cases/{case.case_id}/transitions",
        json={"transition": "take-on", "oggzCheck": {"targetGroup": True, "referred": True}},
        headers=case.as_(CASE_MANAGER),
    )
    assert moved.status_code == 200, moved.text
    for partner in ("buurtteam-sociaal", "mitros"):
        team = post(
            f"/v1/cases/{case.case_id}/team",
            json={"partnerId": partner},
            headers=case.as_(CASE_MANAGER),
        )
        assert team.status_code in (200, 201), team.text


def _summary(case: UtrechtCase, who: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _sensitive(summary: dict) -> dict:  # type: ignore[type-arg]
    return {
        "investigationRunning": summary["investigationRunning"],
        "oggzTargetGroup": summary["oggzTargetGroup"],
        "oggzReferred": summary.get("oggzReferred"),
        "criteria": {c["criterion"]: c["holds"] for c in summary["criteria"]},
        "criteriaHolding": summary.get("criteriaHolding"),
        "withheld": summary.get("withheld"),
    }


@pytest.mark.parametrize(
    "who",
    [
        MITROS,
        BUURTTEAM_WORKER,
        ("mitros", "adapter"),
        ("mitros", "privacy-officer"),
        ("u-centraal", "privacy-officer"),
        ("politie-midden-nederland", "privacy-officer"),
    ],
    ids=lambda who: "/".join(who),
)
def test_team_members_and_privacy_officers_do_not_read_the_investigation_or_the_assessment(
    utrecht_case: UtrechtCase, context: GatewayContext, who: tuple[str, str]
) -> None:
    utrecht_case.investigation(True)
    _take_on_with_oggz_check(utrecht_case)
    # The covenant's own answer for police data to a corporation: not a recipient (U §5.3).
    asked = utrecht_case.client.post(
        "/v1/information-requests",
        json={
            "caseId": utrecht_case.case_id,
            "purpose": "case-handling",
            "recipients": [
                {"partnerId": "politie-midden-nederland", "categories": ["police-reports"]}
            ],
        },
        headers=utrecht_case.as_(MITROS, "u-1"),
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["items"][0]["state"] == "denied"
    before = len(audit_activities(context))
    assert _sensitive(_summary(utrecht_case, who)) == {
        "investigationRunning": None,
        "oggzTargetGroup": None,
        "oggzReferred": None,
        "criteria": {},
        "criteriaHolding": 2,  # how many hold, which the workflow's guard reads (U §2)
        "withheld": [
            *EVERYTHING,
            *EVENTS,
            *PENDING,
            *([] if who[0] == "u-centraal" else CONSULTED),
        ],
    }
    assert len(audit_activities(context)) == before  # nothing disclosed, nothing to audit


def test_the_case_lead_reads_the_investigation_and_its_own_assessment(
    utrecht_case: UtrechtCase,
) -> None:
    """The positive control: the case manager holds the lead (U §5.1) and asks for the
    antecedents, which need the OM's consent while an investigation runs (U §5.3)."""
    utrecht_case.investigation(True)
    _take_on_with_oggz_check(utrecht_case)
    for who in (CASE_MANAGER, ("u-centraal", "adapter")):
        seen = _sensitive(_summary(utrecht_case, who))
        assert (seen["investigationRunning"], seen["oggzTargetGroup"], seen["criteria"]) == (
            True,
            True,
            {"complex-problems": True, "dwelling-related": True},
        )
        # Fields the fix added: the referral, the count and what is withheld (nothing).
        assert (seen["oggzReferred"], seen["criteriaHolding"], seen["withheld"]) == (True, 2, [])


@pytest.mark.parametrize("who", [WIJKAGENT, POLICE], ids=lambda who: "/".join(who))
def test_the_police_read_the_investigation_status_they_record_but_not_the_assessment(
    utrecht_case: UtrechtCase, who: tuple[str, str]
) -> None:
    _take_on_with_oggz_check(utrecht_case)
    # Not recorded yet: null for the police too, so their adapter knows to record it.
    assert _summary(utrecht_case, who)["investigationRunning"] is None
    utrecht_case.investigation(False)
    assert _sensitive(_summary(utrecht_case, who)) == {
        "investigationRunning": False,
        "oggzTargetGroup": None,
        "oggzReferred": None,
        "criteria": {},
        "criteriaHolding": 2,
        "withheld": [*ASSESSMENT, *EVENTS, *PENDING, *CONSULTED],
    }


def test_a_new_lead_reads_them_and_the_former_lead_no_longer_does(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """Who holds the lead is the case's own fact (the ``case-lead`` relation), read at every
    request: not a partner listed anywhere. The investigation goes only to a lead whose role
    the antecedents' clause names (the case manager, U §5.3): a corporation that leads reads
    its assessment, not the investigation (review3, finding 2)."""
    from gateway.cases.models import CaseFile

    utrecht_case.investigation(True)
    _take_on_with_oggz_check(utrecht_case)
    with context.session_factory() as session, session.begin():
        case = session.get_one(CaseFile, utrecht_case.case_id)
        case.lead_partner_id = "mitros"
    # A corporation that leads is no recipient of the landlord's measures (U-6-corporatie
    # names the case manager; review9a F2): leading is no reason of its own.
    assert _summary(utrecht_case, MITROS)["withheld"] == [*INVESTIGATION, *EVENTS]
    assert _summary(utrecht_case, MITROS)["investigationRunning"] is None
    assert _summary(utrecht_case, MITROS)["criteria"] != []
    assert _summary(utrecht_case, CASE_MANAGER)["withheld"] == [*EVERYTHING, *PENDING, *CONSULTED]


def test_the_team_is_told_the_criteria_are_met_not_that_all_six_hold(
    utrecht_case: UtrechtCase,
) -> None:
    """With every criterion holding, a count of six would tell the team that criterion 4
    (psychiatry, addiction, crime) holds: every reader but the lead gets at most the
    minimum (two). The control: the lead reads the count, six."""
    every = ["dwelling-related", "serious-or-long", "several-forms", "complex-problems"]
    every += ["own-attempts-failed", "multidisciplinary"]
    recorded = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/criteria",
        json={"criteria": [{"criterion": c, "holds": True} for c in every]},
        headers=utrecht_case.as_(CASE_MANAGER),
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["criteriaHolding"] == 6  # the lead's own answer
    assert _summary(utrecht_case, CASE_MANAGER)["criteriaHolding"] == 6
    for who in (POLICE, WIJKAGENT, MITROS, ("mitros", "privacy-officer")):
        assert _summary(utrecht_case, who)["criteriaHolding"] == 2, who
