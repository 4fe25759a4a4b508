"""What a reader is told of the landlord's sanctions in a case's retention (docs/retention.md,
"What a reader is told of the landlord's sanctions"): one rule for every channel that shows a
case's rule and dates (the case's state, its records, the fact route, the privacy officers'
overview and the dry run; review9a F2, review10 F1).

R §3.4 keeps a dossier with sanctions "maximaal twee jaar nadat eventuele sancties tegen de
overlastgever zijn ingezet", and the corporation's own measures count (``sanctionEvents``).
The rule that says "sanctioned" (R-3.4-zwaar) and the last sanction's day tell that the
landlord imposed a measure, and when; the case summary shows such a measure only by the
clauses of its category (R-A-corporatie-meldingen: the case manager and the wijkagent). So
a reader never shown one of the case's measures reads neither the rule nor its dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.models import CaseEventRecord, CaseFile, CaseTransition, Dwelling
from gateway.cases.runtime import CaseRuntime
from gateway.cases.summary_readers import events_shown_in
from gateway.db import among
from gateway.retention.rules import RetentionRules

#: The reason a reader reads whom the case summary does not show a landlord's measure that
#: counts as a sanction (docs/retention.md).
SANCTION_WITHHELD_REASON = (
    "Kept under a retention rule; which rule and its dates are not shown: they depend on "
    "a measure of the landlord you are not shown."
)


def rule_tells_sanctions(
    rules: RetentionRules | None, covenant_id: str, rule_id: str | None
) -> bool:
    """Whether ``rule_id`` says something of the case's sanctions: it selects on them
    (``appliesTo.sanctioned``), runs from the last one, or comes after a rule that selects
    on them (it applies because that one did not). An open case's rule (R-open-...) does
    not; an unknown rule, or rules that did not load, are taken to (fail closed)."""
    policy = rules.policy(covenant_id) if rules is not None else None
    if rule_id is None or policy is None:
        return rule_id is not None
    if policy.open_cases is not None and rule_id == policy.open_cases.id:
        return False
    for rule in policy.rules:
        sanctioned = rule.applies_to.sanctioned is not None or any(
            t.source_date == "last-sanction-imposed" for t in rule.terms
        )
        if sanctioned:
            return True
        if rule.id == rule_id:
            return False
    return True


def rules_withheld(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    verdicts: Mapping[str, tuple[str, str | None]],
) -> set[str]:
    """Those of the cases (``verdicts``: case id to its covenant and rule) whose rule and
    dates ``reader`` may not read: the rule tells of sanctions (:func:`rule_tells_sanctions`)
    and the case holds a measure counted as one that ``reader`` was never shown
    (:func:`measures_withheld`). For a list (the overview, the dry run): a fixed number of
    queries, whatever the number of cases."""
    telling = [
        case_id
        for case_id, (covenant_id, rule_id) in verdicts.items()
        if rule_tells_sanctions(rules, covenant_id, rule_id)
    ]
    return measures_withheld(session, rules=rules, runtime=runtime, reader=reader, case_ids=telling)


def measures_withheld(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    case_ids: Collection[str],
) -> set[str]:
    """Those of ``case_ids`` that hold a landlord's measure their covenant's retention file
    counts as a sanction (``sanctionEvents``) that ``reader`` was never shown (review9a F2).

    Shown: its partner recorded it, or the case summary showed it the measure in a phase
    the case was in while the measure was on record (gateway/cases/summary_readers.py: a
    clause of its category names the reader's role in that phase). Who was told keeps
    knowing that the dossier is kept for it, also once the case closed (no clause lists
    ``closed``), as fact_readers.py keeps a fact's record listed to its recipients. A
    privacy officer (an audit role, which reads no summary) reads what its partner's roles
    were shown (``events_shown_in``), as the audit log tells it the measure
    (gateway/audit/readers.py ``LogReader._reads_measure``, review10 F1): the GGD's officer
    is not told, the municipality's is. A case the gateway does not know (a register row
    without its case) hides nothing here. Rules that did not load count every event of the
    covenant file (fail closed)."""
    if not case_ids:
        return set()
    events = session.execute(
        select(
            CaseEventRecord.case_id,
            CaseEventRecord.kind,
            CaseEventRecord.partner_id,
            CaseEventRecord.recorded_at,
        ).where(
            among(session, CaseEventRecord.case_id, case_ids),
            *(
                [CaseEventRecord.kind.in_(_counted(rules))]
                if rules is not None
                else []  # every event of the covenant counts (fail closed; below)
            ),
        )
    ).all()
    others = [e for e in events if e.partner_id != reader.partner_id]
    if not others:
        return set()
    cases: dict[str, tuple[CaseFile, str | None]] = {}
    for case, ownership, corporation in session.execute(
        select(CaseFile, Dwelling.ownership, Dwelling.corporation_id)
        .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
        .where(among(session, CaseFile.id, {e.case_id for e in others}))
    ).all():
        cases[case.id] = (case, corporation if ownership == "corporation" else None)
    measures = defaultdict(list)
    for event in others:
        known = cases.get(event.case_id)
        if known is not None and event.kind in _sanction_events(rules, runtime, known[0]):
            measures[event.case_id].append(event)
    if not measures:
        return set()
    transitions = defaultdict(list)
    for transition in session.scalars(
        select(CaseTransition)
        .where(among(session, CaseTransition.case_id, list(measures)))
        .order_by(CaseTransition.at, CaseTransition.id)
    ):
        transitions[transition.case_id].append(transition)
    withheld = set()
    for case_id, recorded in measures.items():
        case, landlord = cases[case_id]
        shown: dict[str, frozenset[str]] = {}
        for event in recorded:
            later = [t for t in transitions[case_id] if t.at > event.recorded_at]
            # The phases the case was in while the measure was on record: the one it was
            # recorded in (left by the first later transition, or the current one) and after.
            phases = {later[0].from_state if later else case.state, *(t.to_state for t in later)}
            for phase in phases - shown.keys():
                shown[phase] = events_shown_in(
                    runtime, case, reader, phase=phase, landlord=landlord
                )
            if not any(event.kind in shown[phase] for phase in phases):
                withheld.add(case_id)
                break
    return withheld


def measure_withheld(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    case_id: str,
) -> bool:
    """:func:`measures_withheld` for one case (its state, its records, the fact route)."""
    return bool(
        measures_withheld(session, rules=rules, runtime=runtime, reader=reader, case_ids=[case_id])
    )


def _sanction_events(
    rules: RetentionRules | None, runtime: CaseRuntime, case: CaseFile
) -> frozenset[str]:
    policy = rules.policy(case.covenant_id) if rules is not None else None
    if policy is not None:
        return frozenset(policy.sanction_events)
    if rules is not None:  # rules loaded, none for this covenant: it counts no sanctions
        return frozenset()
    covenant = runtime.covenants.get(case.covenant_id)
    return frozenset(e.id for e in covenant.events) if covenant is not None else frozenset()


def _counted(rules: RetentionRules) -> list[str]:
    """Every covenant's sanction events: the events worth reading at all."""
    return sorted({kind for policy in rules.policies.values() for kind in policy.sanction_events})
