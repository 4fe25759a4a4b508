"""Demo cases to explore: ``ketenpoort serve --demo`` (``make run``) seeds them once.

After ``ketenpoort demo`` every case is closed; a newcomer who opens the pages should find
open cases of both covenants in several phases instead, with information requests waiting,
answered and (partly) refused, a case meeting planned, a legal hold and a case due for
erasure. They are made the way partners make them: over the gateway's HTTP API, with
single-use tokens from the development issuer (the case managers, the corporations, and
the police's and wijkteam's back-office systems in their ``adapter`` role), so every step
passes the same policy, workflow guards and audit log as real work, and the audit log has
an entry for each. No table is written directly.

Idempotent across restarts: ``<data dir>/demo-data.json`` records the seeded cases; when
the first of them is still in the database nothing is seeded again. When the marker is
gone but a seed dwelling already has a case (a report would join it instead of opening
one), that case is left as it is. Fictional people and addresses only."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.config import Settings
from gateway.core.dutch_date import dutch_today
from gateway.demo.run import (
    ANTECEDENTS,
    ATMOSPHERE,
    BUURTTEAM_U,
    CM_R,
    CM_U,
    MITROS,
    POLICE_R,
    POLICE_U,
    RIJSWIJK_WONEN,
    VIOLENCE,
    DemoGateway,
    Partner,
    StepFailed,
    expect,
)
from gateway.policy.reasons import reasons_in_words

MARKER = "demo-data.json"

POLICE_U_SYSTEM = Partner("politie-midden-nederland", "adapter", "bronsysteem")
POLICE_R_SYSTEM = Partner("politie-den-haag", "adapter", "bronsysteem")
WIJKTEAM_R_SYSTEM = Partner("sociaal-wijkteam-rijswijk", "adapter", "bronsysteem")
PRIVACY_U = Partner("u-centraal", "privacy-officer", "po-demo")
PRIVACY_R = Partner("gemeente-rijswijk", "privacy-officer", "po-demo")

#: The district of the Utrecht demo cases and of the case meeting planned for them.
UTRECHT_DISTRICT = "Oost"


@dataclass
class SeededCase:
    key: str
    covenant: str
    case_id: str
    reference: str
    shows: str
    #: The information requests made on it, by what they show: "partly-refused",
    #: "refused", "waiting", "answered".
    requests: dict[str, str] = field(default_factory=dict)


@dataclass
class Seeded:
    cases: list[SeededCase] = field(default_factory=list)
    meeting_id: str | None = None
    skipped: list[str] = field(default_factory=list)


class AlreadyThere(Exception):
    """The seed dwelling has a case already (an earlier run): leave it as it is."""


def _dwelling(
    postcode: str, number: int, city: str, district: str, corporation: str | None
) -> dict[str, Any]:
    dwelling: dict[str, Any] = {
        "address": {
            "postcode": postcode,
            "houseNumber": number,
            "street": "Demostraat",
            "city": city,
        },
        "ownership": "corporation" if corporation else "owner-occupied",
        "district": district,
    }
    if corporation:
        dwelling["corporationId"] = corporation
    return dwelling


def _open_case(
    gw: DemoGateway,
    who: Partner,
    dwelling: dict[str, Any],
    bsn: str,
    text: str,
    received_at: datetime | None = None,
) -> tuple[str, str]:
    """A report that opens a new case (received ``received_at``, default now);
    AlreadyThere if the dwelling has one."""
    report: dict[str, Any] = {"channel": "form", "description": text}
    if received_at is not None:
        report["receivedAt"] = received_at.isoformat()
    body = {
        "dwelling": dwelling,
        # Fictional people: valid BSNs (elfproef) that belong to nobody in the demo.
        "persons": [{"role": "causer", "bsn": bsn}],
        "report": report,
    }
    from gateway.auth.dev import mint_dev_token

    token = mint_dev_token(
        gw.settings, partner_id=who.id, role=who.role, user=who.user, lifetime_seconds=60
    )
    response = gw.client.post(
        f"{gw.url}/v1/reports", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code in (200, 202):
        raise AlreadyThere(dwelling["address"]["postcode"])
    if response.status_code != 201:
        raise StepFailed(f"POST /reports as {who.id}: HTTP {response.status_code}: "
                         f"{response.text[:300]}")  # fmt: skip
    result = response.json()
    return result["caseId"], result["reference"]


def _move(gw: DemoGateway, who: Partner, case: str, transition: str, **facts: Any) -> Any:
    return gw.call(who, "POST", f"/cases/{case}/transitions", {"transition": transition, **facts})


def _criteria(gw: DemoGateway, case: str, *ids: str) -> None:
    gw.call(
        CM_U,
        "POST",
        f"/cases/{case}/criteria",
        {"criteria": [{"criterion": i, "holds": True} for i in ids]},
    )


def _ask(gw: DemoGateway, who: Partner, case: str, purpose: str, categories: list[str]) -> Any:
    return gw.call(
        who,
        "POST",
        "/information-requests",
        {"caseId": case, "purpose": purpose, "categories": categories},
        expect_status=201,
    )


def _states(request: Any) -> dict[str, str]:
    return {item["category"]: item["state"] for item in request["items"]}


def _answer(gw: DemoGateway, system: Partner, request_id: str, answers: list[Any]) -> None:
    gw.call(system, "POST", f"/information-requests/{request_id}/answers", {"answers": answers})


def _read(gw: DemoGateway, who: Partner, request_id: str) -> dict[str, Any]:
    body = gw.call(who, "GET", f"/information-requests/{request_id}/answers")
    return {value["category"]: value for value in body["values"]}


# --- Utrecht ------------------------------------------------------------------------------


def utrecht_intake(gw: DemoGateway) -> SeededCase:
    """A fresh report, two criteria recorded: U Centraal decides within five days."""
    case, reference = _open_case(
        gw,
        BUURTTEAM_U,
        _dwelling("3581 AA", 3, "Utrecht", UTRECHT_DISTRICT, "portaal"),
        "200000007",
        "Buren melden al maanden vervuiling en stankoverlast uit de woning.",
    )
    _criteria(gw, case, "dwelling-related", "serious-or-long")
    return SeededCase(
        "utrecht-intake",
        "utrecht",
        case,
        reference,
        "intake: 2 criteria of U §2 recorded; the decision is due within 5 days",
    )


def utrecht_permission(gw: DemoGateway) -> SeededCase:
    """Criteria met, a Bo-Ex dwelling: the corporation's permission is asked (3 days)."""
    case, reference = _open_case(
        gw,
        POLICE_U,
        _dwelling("3581 AB", 17, "Utrecht", UTRECHT_DISTRICT, "bo-ex"),
        "200000019",
        "Herhaalde meldingen van geluidsoverlast en bedreiging in de portiek.",
    )
    _criteria(gw, case, "dwelling-related", "several-forms", "multidisciplinary")
    _move(gw, CM_U, case, "request-permission")
    return SeededCase(
        "utrecht-permission",
        "utrecht",
        case,
        reference,
        "waiting for Bo-Ex's permission (U §5.1, answer due in 3 days)",
    )


def _taken_on(gw: DemoGateway, postcode: str, number: int, bsn: str, text: str) -> tuple[str, str]:
    """Mitros reports its own dwelling (its report is its permission, U §5.2), the
    criteria hold, the case is taken on and the police join the team."""
    case, reference = _open_case(
        gw, MITROS, _dwelling(postcode, number, "Utrecht", UTRECHT_DISTRICT, "mitros"), bsn, text
    )
    _criteria(gw, case, "dwelling-related", "several-forms", "complex-problems")
    _move(gw, CM_U, case, "take-on", oggzCheck={"targetGroup": False, "referred": False})
    gw.call(CM_U, "POST", f"/cases/{case}/team", {"partnerId": "politie-midden-nederland"})
    return case, reference


def utrecht_requests(gw: DemoGateway) -> SeededCase:
    """Plan of approach, three requests: to the police one partly refused (antecedents
    withheld: an investigation runs without OM consent; violence answered) and one refused
    whole (no sfeerverslag in this phase); one still waiting for the neighbourhood team."""
    case, reference = _taken_on(
        gw, "3581 AC", 5, "200000020", "Nachtelijk lawaai, bedreiging en vernieling bij buren."
    )
    gw.call(POLICE_U_SYSTEM, "PUT", f"/cases/{case}/investigation-status", {"running": True})

    partial = _ask(gw, CM_U, case, "case-handling", [ANTECEDENTS, VIOLENCE])
    expect(
        _states(partial) == {ANTECEDENTS: "denied", VIOLENCE: "asked"},
        f"antecedents withheld, violence asked: {_states(partial)}",
    )
    _answer(gw, POLICE_U_SYSTEM, partial["id"], [{"category": VIOLENCE, "yesNo": True}])
    values = _read(gw, CM_U, partial["id"])
    expect(values[VIOLENCE]["outcome"] == "disclosed", "violence disclosed (yes/no)")
    withheld = reasons_in_words(values[ANTECEDENTS]["reasons"])

    refused = _ask(gw, CM_U, case, "eviction-procedure", [ATMOSPHERE])
    expect(_states(refused) == {ATMOSPHERE: "denied"}, "no sfeerverslag in this phase")

    # Waiting on the neighbourhood team, which has no adapter in `ketenpoort demo`: a demo
    # played against this gateway leaves it waiting.
    gw.call(CM_U, "POST", f"/cases/{case}/team", {"partnerId": "buurtteam-sociaal"})
    waiting = _ask(gw, CM_U, case, "case-handling", ["neighbourhood-team-known"])
    expect(_states(waiting) == {"neighbourhood-team-known": "asked"}, "asked of the buurtteam")
    return SeededCase(
        "utrecht-requests",
        "utrecht",
        case,
        reference,
        "plan of approach; requests partly refused (antecedents: " + withheld + "), "
        "refused (no sfeerverslag in this phase) and waiting for the neighbourhood team",
        {"partly-refused": partial["id"], "refused": refused["id"], "waiting": waiting["id"]},
    )


def utrecht_legal_hold(gw: DemoGateway) -> SeededCase:
    """Execution, a request answered in full (no investigation runs, so no OM consent is
    needed), and a legal hold set by the case manager."""
    case, reference = _taken_on(
        gw, "3581 AD", 21, "200000032", "Vervuiling van de tuin en intimidatie van omwonenden."
    )
    gw.call(POLICE_U_SYSTEM, "PUT", f"/cases/{case}/investigation-status", {"running": False})
    answered = _ask(gw, CM_U, case, "case-handling", [ANTECEDENTS])
    expect(_states(answered) == {ANTECEDENTS: "asked"}, "antecedents asked")
    _answer(gw, POLICE_U_SYSTEM, answered["id"], [{"category": ANTECEDENTS, "yesNo": True}])
    values = _read(gw, CM_U, answered["id"])
    expect(values[ANTECEDENTS]["outcome"] == "disclosed", "antecedents disclosed")
    _move(gw, CM_U, case, "adopt-plan", bothSidesHeard=True)
    gw.call(
        CM_U,
        "POST",
        f"/cases/{case}/retention/legal-hold",
        {"reason": "Lopende rechtszaak over de huurovereenkomst"},
        expect_status=201,
    )
    return SeededCase(
        "utrecht-legal-hold",
        "utrecht",
        case,
        reference,
        "execution; antecedents answered in full; a legal hold stops its erasure",
        {"answered": answered["id"]},
    )


def utrecht_meeting(gw: DemoGateway) -> str:
    """The district's next case meeting (U §5.1: every six weeks), its agenda the
    district's open cases."""
    day = dutch_today() + timedelta(days=7)
    meeting = gw.call(
        CM_U,
        "POST",
        "/meetings",
        {"district": UTRECHT_DISTRICT, "scheduledOn": day.isoformat()},
        expect_status=201,
    )
    return str(meeting["id"])


# --- Rijswijk -----------------------------------------------------------------------------


def rijswijk_mediation(gw: DemoGateway) -> SeededCase:
    """A simple case in the corporation's own mediation (R Bijlage B)."""
    case, reference = _open_case(
        gw,
        RIJSWIJK_WONEN,
        _dwelling("2283 AA", 4, "Rijswijk", "Te Werve", "rijswijk-wonen"),
        "200000044",
        "Burenruzie over geluid van een hond en harde muziek.",
    )
    _move(gw, RIJSWIJK_WONEN, case, "classify-simple")
    _move(
        gw,
        RIJSWIJK_WONEN,
        case,
        "start-own-mediation",
        mediationScreening={"crime": False, "seriousPsychosocial": False, "multiProblem": False},
    )
    return SeededCase(
        "rijswijk-mediation",
        "rijswijk",
        case,
        reference,
        "simple case in mediation; its evaluation is due after 6 weeks",
    )


def rijswijk_requests(gw: DemoGateway) -> SeededCase:
    """A complex case in the integrated approach: the police's registrations pushed and
    read, the wijkteam's actions answered, the GGD's actions waiting, the sfeerrapportage
    refused (not in this phase)."""
    dwelling = _dwelling("2283 AB", 9, "Rijswijk", "Te Werve", "rijswijk-wonen")
    case, reference = _open_case(
        gw, RIJSWIJK_WONEN, dwelling, "200000056", "Dreigementen en harde muziek in de nacht."
    )
    police = gw.call(
        POLICE_R,
        "POST",
        "/reports",
        {
            "dwelling": dwelling,
            "persons": [{"role": "causer", "bsn": "200000056"}],
            "report": {"channel": "form", "description": "Melding van bedreiging van een buurman."},
        },
        expect_status=202,
    )
    gw.call(
        RIJSWIJK_WONEN,
        "POST",
        f"/cases/{case}/reports/{police['reportId']}/reporter-decision",
        {"addToTeam": True},
    )
    _move(gw, RIJSWIJK_WONEN, case, "classify-complex")
    gw.call(CM_R, "POST", f"/cases/{case}/team", {"partnerId": "sociaal-wijkteam-rijswijk"})
    _move(gw, CM_R, case, "form-team")
    _move(gw, CM_R, case, "weigh-serious", bothSidesHeard=True)

    gw.call(
        POLICE_R_SYSTEM,
        "POST",
        "/case-facts",
        {
            "caseId": case,
            "category": "police-registrations",
            "value": "Twee meldingen: geluidsoverlast (maart), bedreiging van een buurman (maart)",
        },
        expect_status=201,
    )
    read = gw.call(
        CM_R,
        "POST",
        "/case-facts/queries",
        {"caseId": case, "purpose": "dossier-building", "categories": ["police-registrations"]},
    )
    expect(read["values"][0]["outcome"] == "disclosed", "registrations disclosed")

    actions = _ask(gw, CM_R, case, "integrated-approach", ["neighbourhood-team-actions"])
    _answer(
        gw,
        WIJKTEAM_R_SYSTEM,
        actions["id"],
        [{"category": "neighbourhood-team-actions", "value": "Huisbezoek; schuldhulp aangevraagd"}],
    )
    expect(
        _read(gw, CM_R, actions["id"])["neighbourhood-team-actions"]["outcome"] == "disclosed",
        "the wijkteam's actions disclosed",
    )
    # Waiting on the GGD, which has no adapter in `ketenpoort demo` (see utrecht_requests).
    gw.call(CM_R, "POST", f"/cases/{case}/team", {"partnerId": "ggd-haaglanden"})
    waiting = _ask(gw, CM_R, case, "integrated-approach", ["care-actions"])
    expect(_states(waiting) == {"care-actions": "asked"}, "asked of the GGD")
    refused = _ask(gw, CM_R, case, "eviction-procedure", [ATMOSPHERE])
    expect(_states(refused) == {ATMOSPHERE: "denied"}, "no sfeerrapportage in this phase")
    return SeededCase(
        "rijswijk-requests",
        "rijswijk",
        case,
        reference,
        "complex case, integrated approach; registrations and wijkteam actions disclosed, "
        "the GGD's actions waiting, the sfeerrapportage refused",
        {"answered": actions["id"], "waiting": waiting["id"], "refused": refused["id"]},
    )


def rijswijk_due_for_erasure(gw: DemoGateway) -> SeededCase:
    """Closed without sanctions; the resident moved out a month ago: R §3.4 keeps the
    dossier only while the resident lives there, so it is due for erasure now (the
    retention sweep erases it on its next run, hourly by default)."""
    case, reference = _open_case(
        gw,
        RIJSWIJK_WONEN,
        _dwelling("2283 AC", 15, "Rijswijk", "Te Werve", "rijswijk-wonen"),
        "200000068",
        "Overlast van een scooter in de gemeenschappelijke gang.",
        # The report came in two months ago: a move-out a month ago is a date of the case
        # (a retention fact is not dated before its case began, docs/retention.md).
        received_at=datetime.now(UTC) - timedelta(days=60),
    )
    _move(gw, RIJSWIJK_WONEN, case, "classify-simple")
    _move(gw, RIJSWIJK_WONEN, case, "nuisance-stopped")
    result = {
        "neighboursJudgement": "resolved",
        "partnersJudgement": "resolved",
        "aftercare": "none",
    }
    _move(gw, RIJSWIJK_WONEN, case, "close", result=result)
    moved_out = dutch_today() - timedelta(days=30)
    state = gw.call(
        RIJSWIJK_WONEN,
        "POST",
        f"/cases/{case}/retention/facts",
        {"kind": "resident-moved-out", "occurredOn": moved_out.isoformat()},
        expect_status=201,
    )
    expect(state["status"] == "due", f"due for erasure (is {state['status']})")
    return SeededCase(
        "rijswijk-due",
        "rijswijk",
        case,
        reference,
        f"closed; the resident moved out on {moved_out}: due for erasure (R §3.4)",
    )


SEEDS: list[Callable[[DemoGateway], SeededCase]] = [
    utrecht_intake,
    utrecht_permission,
    utrecht_requests,
    utrecht_legal_hold,
    rijswijk_mediation,
    rijswijk_requests,
    rijswijk_due_for_erasure,
]


# --- running --------------------------------------------------------------------------------


def _marker(settings: Settings) -> Path:
    return settings.data_dir / MARKER


def already_seeded(gw: DemoGateway) -> dict[str, Any] | None:
    """The marker of an earlier seeding whose first case is still in the database."""
    path = _marker(gw.settings)
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        first = recorded["cases"][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    who = CM_U if first.get("covenant") == "utrecht" else CM_R
    try:
        gw.call(who, "GET", f"/cases/{first['caseId']}")
    except (StepFailed, httpx.HTTPError):
        return None  # a fresh database behind an old data directory: seed again
    return dict(recorded)


def seed(gw: DemoGateway, say: Callable[[str], None]) -> Seeded:
    """Every demo case, one after the other; a case whose dwelling already has one is left
    as it is. Writes the marker when done."""
    seeded = Seeded()
    for make in SEEDS:
        try:
            made = make(gw)
        except AlreadyThere:
            seeded.skipped.append(make.__name__)
            continue
        seeded.cases.append(made)
        # The case is on the retention overview from its opening (registered in the
        # intake's transaction). What the seeding did since (a closing, a mediation's end)
        # reaches the stored verdict at the next sweep or read: the privacy officer reads
        # it now, so the overview shows each case's rule for how it ended, not how it began.
        officer = PRIVACY_U if made.covenant == "utrecht" else PRIVACY_R
        gw.call(officer, "GET", f"/cases/{made.case_id}/retention")
        say(f"  {made.reference}: {made.shows}")
    if seeded.cases and any(c.covenant == "utrecht" for c in seeded.cases):
        seeded.meeting_id = utrecht_meeting(gw)
        say(
            f"  case meeting planned for district {UTRECHT_DISTRICT} (its open cases on the agenda)"
        )
    _marker(gw.settings).write_text(
        json.dumps(
            {
                "seededAt": datetime.now(UTC).isoformat(),
                "cases": [
                    {
                        "key": c.key,
                        "covenant": c.covenant,
                        "caseId": c.case_id,
                        "reference": c.reference,
                        "shows": c.shows,
                        "requests": c.requests,
                    }
                    for c in seeded.cases
                ],
                "meetingId": seeded.meeting_id,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return seeded


def ensure_demo_data(url: str, settings: Settings, say: Callable[[str], None]) -> bool:
    """Seed the demo cases into the gateway at ``url`` unless they are there; says what it
    did. True when the demo cases are there afterwards."""
    with httpx.Client(timeout=30) as client:
        gw = DemoGateway(url, settings, client)
        recorded = already_seeded(gw)
        if recorded is not None:
            say(f"Demo cases already there ({_marker(settings)} records them):")
            for case in recorded["cases"]:
                say(f"  {case['reference']}: {case['shows']}")
        else:
            say("Seeding demo cases to explore (over the API, audited like any work):")
            try:
                seeded = seed(gw, say)
            except (StepFailed, httpx.HTTPError, KeyError) as exc:
                say(f"Seeding the demo cases stopped: {exc}")
                return False
            if seeded.skipped:
                say(f"  left as they were (their dwellings had a case already): "
                    f"{', '.join(seeded.skipped)}")  # fmt: skip
    say(
        f"Sign in at {url}/inloggen as U Centraal (casemanager), Rijswijk Wonen "
        "(woonconsulent) or Gemeente Rijswijk (casemanager) to see them; as a privacy "
        "officer for the log and retention (README.md: What to try next)."
    )
    return True
