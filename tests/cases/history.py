"""A covenant's history in bulk: many cases over years, most closed, some open in every state,
with teams, consents, reports awaiting the lead, transitions, meetings, actions and retention
verdicts. Rows go straight in with Core inserts (no sealing: these rows are never decrypted,
their sealed columns hold placeholder bytes), so 50,000 cases take seconds.

Used by tests/cases/test_report_at_any_size.py (against the former Python computation kept in
overview_oracle.py) and bench/bench_reports.py. Dates include the edges that matter: a case
opened or closed exactly at a period's first local midnight, the microsecond before it, and
at the midnight after its last day.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from gateway.cases.definition import WorkflowDefinition
from gateway.cases.models import (
    CaseConsent,
    CaseFile,
    CaseMeeting,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    Dwelling,
    MeetingAction,
)
from gateway.retention.models import RetentionCase

JUDGEMENTS = ("resolved", "improved", "unchanged", "worse", None)
PARTNERS = {
    "rijswijk-woonoverlast": (
        "gemeente-rijswijk",
        ["rijswijk-wonen", "vidomes", "politie-den-haag", "sociaal-wijkteam-rijswijk"],
    ),
    "utrecht-extreme-woonoverlast": (
        "u-centraal",
        ["mitros", "portaal", "politie-midden-nederland", "gemeente-utrecht"],
    ),
}


@dataclass(frozen=True)
class History:
    covenant_id: str
    lead: str
    partners: list[str]
    period_from: date
    period_to: date
    case_ids: list[str]


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_history(
    engine: Engine,
    definition: WorkflowDefinition,
    *,
    cases: int,
    now: datetime,
    years: float = 6.0,
    open_share: float = 0.05,
    seed: int = 20,
    period: tuple[date, date] | None = None,
    districts: int = 8,
) -> History:
    """``cases`` cases of ``definition``'s covenant opened over ``years`` up to ``now``; the
    newest ``open_share`` of them (and a few old ones, stuck) still open in a random state."""
    rng = random.Random(seed)
    covenant = definition.covenant
    lead, others = PARTNERS[covenant]
    local = ZoneInfo(definition.calendar.timezone)
    period_to = period[1] if period else now.astimezone(local).date()
    period_from = period[0] if period else period_to - timedelta(days=365)
    edges = [
        datetime.combine(period_from, time(0), tzinfo=local),
        datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=local),
    ]
    edge_moments = [m + d for m in edges for d in (timedelta(0), timedelta(microseconds=-1))]
    finals = sorted(definition.final_states)
    open_states = [s.id for s in definition.states if not s.final]
    span = timedelta(days=365 * years)
    rows: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "dwelling",
            "case",
            "team",
            "consent",
            "report",
            "transition",
            "retention",
        )
    }
    case_ids = []
    for i in range(cases):
        case_id = _id(rng)
        case_ids.append(case_id)
        age = span * (i / max(cases - 1, 1)) ** 1.0
        opened = now - span + age + timedelta(seconds=rng.uniform(0, 3600))
        if i % 97 == 0:
            opened = rng.choice(edge_moments)
        opened = min(opened, now - timedelta(minutes=1))
        first_report = opened - timedelta(hours=rng.choice([0, 0, 5, 30, 80]))
        is_open = i >= cases * (1 - open_share) or rng.random() < 0.004
        district = f"wijk-{rng.randrange(districts)}" if i % 53 else "klein-buurtje"
        state = rng.choice(open_states) if is_open else finals[0]
        entered = first_report + (now - first_report) * rng.random()
        if i % 89 == 0:
            entered = rng.choice(edge_moments)
            entered = max(first_report, min(entered, now))
        closed_at = None
        if not is_open:
            closed_at = opened + timedelta(days=rng.uniform(5, 200))
            if i % 71 == 0:
                closed_at = max(opened, rng.choice(edge_moments))
            closed_at = min(closed_at, now)
            entered = closed_at
        dwelling_id = _id(rng)
        corporation = rng.choice([o for o in others if o != lead][:2] + [None])
        rows["dwelling"].append(
            {
                "id": dwelling_id,
                "covenant_id": covenant,
                "ownership": "corporation" if corporation else "private-rental",
                "corporation_id": corporation,
                "district": district,
                "created_at": first_report,
            }
        )
        case_lead = lead if rng.random() < 0.8 else rng.choice(others)
        rows["case"].append(
            {
                "id": case_id,
                "reference": f"H-{seed}-{i:07d}",
                "covenant_id": covenant,
                "dwelling_id": dwelling_id,
                "district": district,
                "address_sealed": b"sealed",
                "address_index": f"bench-{case_id}",
                "state": state,
                "state_entered_at": entered,
                # The states whose deadline runs for the days given on entering them:
                # the temporary eviction and the warning's or intention's term (review8a F4).
                "state_days": rng.choice([10, 14, 28, None])
                if state in ("temporary-eviction", "warning")
                else None,
                "opened_at": opened,
                "first_report_at": first_report,
                "closed_at": closed_at,
                "lead_partner_id": case_lead,
                "acute_override": False,
                "both_sides_heard": False,
                "neighbours_judgement": rng.choice(JUDGEMENTS) if closed_at else None,
                "partners_judgement": rng.choice(JUDGEMENTS) if closed_at else None,
                "version": 1,
            }
        )
        team = {case_lead, *rng.sample(others, rng.randrange(0, 3))}
        for partner in sorted(team):
            rows["team"].append(
                {
                    "case_id": case_id,
                    "partner_id": partner,
                    "case_opened_at": opened,
                    "added_at": first_report,
                    "added_by": f"{partner}:bench",
                }
            )
        reporters = [case_lead] + ([rng.choice(others)] if rng.random() < 0.2 else [])
        for n, reporter in enumerate(reporters):
            decision = None if rng.random() < 0.7 else "declined"
            rows["report"].append(
                {
                    "id": _id(rng),
                    "case_id": case_id,
                    "source_partner_id": reporter,
                    "channel": "phone",
                    "received_at": first_report,
                    "registered_at": first_report + timedelta(hours=n * 30),
                    "description_sealed": b"sealed",
                    "lead_decision": decision,
                    # As gateway/cases/awaiting.py has it (these inserts bypass the session).
                    "awaiting_lead": decision is None
                    and reporter != case_lead
                    and reporter not in team
                    and closed_at is None,
                }
            )
        if rng.random() < 0.3:
            recorded = entered + timedelta(hours=rng.choice([-2, 0, 3]))
            rows["consent"].append(
                {
                    "id": _id(rng),
                    "case_id": case_id,
                    "kind": rng.choice(["corporation-permission", "om-consent"]),
                    "partner_id": corporation or lead,
                    "granted": rng.random() < 0.8,
                    "scope": ["addresses"],
                    "expires_at": None,
                    "recorded_at": recorded,
                    "recorded_by": "bench",
                    "withdrawn_at": None,
                }
            )
        for _ in range(rng.randrange(1, 4)):
            at = first_report + (entered - first_report) * rng.random()
            if rng.random() < 0.02:
                at = rng.choice(edge_moments)
            rows["transition"].append(
                {
                    "id": _id(rng),
                    "case_id": case_id,
                    "covenant_id": covenant,
                    "transition": rng.choice(["classify-complex", "form-team", "close", "warn"]),
                    "from_state": "intake",
                    "to_state": state,
                    "at": at,
                    "actor_partner_id": case_lead,
                    "actor_role": "casemanager",
                    "actor_user": None,
                    "facts": {},
                }
            )
        if is_open and rng.random() < 0.3:
            rows["retention"].append(
                {
                    "case_id": case_id,
                    "covenant_id": covenant,
                    "scope": f"case:{case_id}",
                    "due_on": (now + timedelta(days=rng.randrange(-10, 400))).date(),
                    "rule_id": None,
                    "reason": "",
                    "rules_revision": "",
                    "stale": False,
                    "on_hold": rng.random() < 0.1,
                }
            )
    meetings, actions = _meetings(rng, covenant, lead, others, case_ids, now, districts)
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (Dwelling, rows["dwelling"]),
        (CaseFile, rows["case"]),
        (CaseTeamMember, rows["team"]),
        (CaseReport, rows["report"]),
        (CaseConsent, rows["consent"]),
        (CaseTransition, rows["transition"]),
        (RetentionCase, rows["retention"]),
        (CaseMeeting, meetings),
        (MeetingAction, actions),
    ]
    with engine.begin() as connection:
        for model, batch in tables:
            for start in range(0, len(batch), 5000):
                connection.execute(insert(model), batch[start : start + 5000])
    return History(covenant, lead, others, period_from, period_to, case_ids)


def _meetings(
    rng: random.Random,
    covenant: str,
    lead: str,
    others: list[str],
    case_ids: list[str],
    now: datetime,
    districts: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    meetings, actions = [], []
    for d in range(districts):
        for k in range(3):
            meeting_id = _id(rng)
            held = now - timedelta(days=30 * (k + 1) + rng.randrange(10))
            meetings.append(
                {
                    "id": meeting_id,
                    "covenant_id": covenant,
                    "district": f"wijk-{d}",
                    "scheduled_on": held.date(),
                    "organiser_partner_id": lead,
                    "held_at": held if k or d % 2 else None,
                    "attendance": {},
                    "created_at": held,
                }
            )
            for _ in range(rng.randrange(0, 6)):
                actions.append(
                    {
                        "id": _id(rng),
                        "meeting_id": meeting_id,
                        "case_id": rng.choice(case_ids) if rng.random() < 0.7 else None,
                        "owner_partner_id": rng.choice([lead, *others]),
                        "description_sealed": b"sealed",
                        "due_on": (now + timedelta(days=rng.randrange(-40, 60))).date(),
                        "done_at": now if rng.random() < 0.2 else None,
                    }
                )
    return meetings, actions
