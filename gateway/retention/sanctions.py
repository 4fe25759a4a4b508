"""What a reader is told of a case's retention when its rule is chosen by sanctions that
count the landlord's measures (docs/retention.md, "What a reader is told of the landlord's
sanctions"): one rule for every channel that shows a case's rule and dates (the case's
state, its records, the fact route, the privacy officers' overview, the dry run, an erased
case's state and 410, and who finds the sweep's audit entry of its erasure; review9a F2,
review10 F1, review11 N1, review13 F4).

R §3.4 keeps a dossier with sanctions "maximaal twee jaar nadat eventuele sancties tegen de
overlastgever zijn ingezet", and the corporation's own measures count (``sanctionEvents``).
So which of the covenant's closed-case rules applies (R-3.4-zwaar, R-3.4-zonder-sancties,
R-3.4-licht-bemiddeld: each selects on ``sanctioned``) and its dates (the last sanction's
day) tell whether, and when, the landlord imposed a measure; the case summary shows such a
measure only by the clauses of its category (R-A-corporatie-meldingen: the case manager and
the wijkagent). A reader who could never be shown one reads none of these rules nor their
dates, whether the case holds a measure or not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.auth.service import PartnerDirectory
from gateway.cases.models import CaseFile, CaseTransition, Dwelling
from gateway.cases.runtime import CaseRuntime
from gateway.cases.summary_readers import events_shown_in
from gateway.db import among
from gateway.policy.covenant import Covenant
from gateway.retention.rules import RetentionRules

#: The reason read by a reader who could not be shown the landlord's measures, for every
#: rule chosen by sanctions (docs/retention.md). It names no measure: the same words whether
#: the case holds one or not.
SANCTION_WITHHELD_REASON = (
    "Kept under a retention rule; which rule and its dates are not shown: which rule "
    "applies depends on information you are not shown."
)
#: The same for an erased case: neither the rule nor the day (the day of the erasure is
#: the due date's, which the rule's dates decide).
ERASURE_WITHHELD_REASON = (
    "Erased under a retention rule; which rule and when are not shown: which rule applied "
    "depends on information you are not shown."
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


def dates_tell_sanctions(
    rules: RetentionRules | None, covenant_id: str, rule_id: str | None
) -> bool:
    """Whether the dates of ``rule_id`` say something of the case's sanctions: every rule
    that :func:`rule_tells_sanctions`, and the open-case rule (R-open-...) of a covenant whose
    retention file counts the landlord's measures (``sanctionEvents``). That rule is chosen by
    no sanction, but its source date is the case's last activity and a measure is an activity
    (service.ACTIVITY_KINDS: ``sanction-imposed``), so its ``sourceDate`` and due date can be
    the day of a measure (docs/retention.md, residual (b)). Fail closed as
    :func:`rule_tells_sanctions`."""
    if rule_tells_sanctions(rules, covenant_id, rule_id):
        return True
    policy = rules.policy(covenant_id) if rules is not None else None
    return (
        policy is not None
        and policy.open_cases is not None
        and rule_id == policy.open_cases.id
        and bool(policy.sanction_events)
    )


def erased_day_withheld_reason(rule_id: str | None) -> str:
    """An erased case's reason to a reader from whom its rule's dates were withheld (the
    open-case rule, :func:`dates_tell_sanctions`): the erasure came on the first sweep from
    the due date, so its day would give the last activity's."""
    return f"Erased under rule {rule_id}; its day is not shown."


def dates_withheld_reason(rule_id: str | None) -> str:
    """The reason read by a reader from whom an open case's dates are withheld (the
    open-case rule's last activity can be a landlord's measure it could not be shown): the
    rule, not its dates, in the words a withheld move-out uses (service.shown_verdict)."""
    return f"{rule_id}: kept; its due date is not shown."


class Withheld(NamedTuple):
    """What one reader may not read of a list of cases (:func:`withheld_from`)."""

    #: Neither the rule nor its dates (a rule chosen by sanctions).
    rules: set[str]
    #: The rule, not its dates (the open-case rule, whose last activity may be a measure).
    dates: set[str]


def withheld_from(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    verdicts: Mapping[str, tuple[str, str | None]],
) -> Withheld:
    """Those of the cases (``verdicts``: case id to its covenant and rule) whose rule and
    dates (``rules``), or whose dates only (``dates``), ``reader`` may not read: the rule or
    its dates tell of sanctions (:func:`rule_tells_sanctions`, :func:`dates_tell_sanctions`)
    and ``reader`` could not be shown the landlord's measures in the case
    (:func:`sanctions_hidden`), whether the case holds a measure or not. For a list (the
    overview, the dry run, the summary's erasure warnings): a fixed number of queries,
    whatever the number of cases."""
    telling = [
        case_id
        for case_id, (covenant_id, rule_id) in verdicts.items()
        if dates_tell_sanctions(rules, covenant_id, rule_id)
    ]
    hidden = sanctions_hidden(
        session, rules=rules, runtime=runtime, reader=reader, case_ids=telling
    )
    named = {case_id for case_id in hidden if rule_tells_sanctions(rules, *verdicts[case_id])}
    return Withheld(rules=named, dates=hidden - named)


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
    and ``reader`` could not be shown the landlord's measures in the case
    (:func:`sanctions_hidden`). For a list: a fixed number of queries, whatever the number
    of cases (:func:`withheld_from` also gives the cases whose dates only are withheld)."""
    telling = [
        case_id
        for case_id, (covenant_id, rule_id) in verdicts.items()
        if rule_tells_sanctions(rules, covenant_id, rule_id)
    ]
    return sanctions_hidden(session, rules=rules, runtime=runtime, reader=reader, case_ids=telling)


def sanctions_hidden(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    case_ids: Collection[str],
) -> set[str]:
    """Those of ``case_ids`` whose retention rules choose by sanctions that count the
    landlord's measures (``sanctionEvents``) while ``reader`` could never be shown such a
    measure in them (review9a F2, review10 F1, review11 N1).

    Decided by the reader and the case, never by whether a measure is on record: "no rule"
    only for a case with a measure would tell that the landlord recorded one, as the case
    summary lists ``events`` as withheld whether or not one is on file
    (summary_readers.EVENT_FIELDS). The reader could be shown them when its partner holds
    the relation that records them (``events[].recordedBy``: the dwelling's landlord), or
    the case summary gives it their category in a phase the case was in
    (``events_shown_in``: a clause names the reader's role in that phase, R-A-corporatie-
    meldingen the case manager and the wijkagent from the weighing on). A privacy officer
    (an audit role) reads as its partner's roles, as the audit log tells it the measure
    (gateway/audit/readers.py ``LogReader._reads_measure``). Who could be shown them keeps
    knowing why the dossier is kept once the case closed, or was erased (the case and its
    transitions stay; no clause lists ``closed``).

    Fail closed: rules that did not load, a covenant without retention rules or not
    loaded, a case the gateway does not know (no phase history), a partner the covenant
    does not name (no roles) hide. A covenant that counts no landlord's measure (Utrecht)
    hides nothing: its rules' choice depends on nothing the team is not shown."""
    hidden, asked = _sanction_views(session, rules=rules, case_ids=case_ids)
    # The cases share a handful of views: each decided once (the sweeps view asks this of
    # every case a run erased under a rule chosen by sanctions).
    decided: dict[_SanctionView, bool] = {}
    for case_id, view in asked.items():
        shown = decided.get(view)
        if shown is None:
            shown = decided[view] = _could_be_shown(runtime.covenants, view, reader)
        if not shown:
            hidden.add(case_id)
    return hidden


class _SanctionView(NamedTuple):
    """What decides whether a reader could be shown the landlord's measures in a case
    (:func:`_could_be_shown`)."""

    covenant_id: str
    #: The case's lead (``lead_partner_id``): a clause may bind a recipient to it.
    lead: str
    #: The events the case's covenant counts as sanctions (``sanctionEvents``).
    counted: frozenset[str]
    #: The dwelling's landlord (a corporation), None for another dwelling.
    landlord: str | None
    #: Every phase the case was in, its current one too.
    phases: frozenset[str]


def _sanction_views(
    session: Session, *, rules: RetentionRules | None, case_ids: Collection[str]
) -> tuple[set[str], dict[str, _SanctionView]]:
    """Of ``case_ids``: those hidden from every reader (fail closed, :func:`sanctions_hidden`)
    and, for those whose covenant counts the landlord's measures, what decides it per reader.
    A case in neither is hidden from none. Two queries, whatever the number of cases."""
    if not case_ids:
        return set(), {}
    if rules is None:
        return set(case_ids), {}
    # Plain columns, not ORM objects, and each view made once: the sweep asks this of every
    # batch it erases (10,000 cases), and its cases share a handful of views.
    cases: dict[str, tuple[str, str, str, str | None]] = {
        case_id: (covenant_id, lead, state, corporation if ownership == "corporation" else None)
        for case_id, covenant_id, lead, state, ownership, corporation in session.execute(
            select(
                CaseFile.id,
                CaseFile.covenant_id,
                CaseFile.lead_partner_id,
                CaseFile.state,
                Dwelling.ownership,
                Dwelling.corporation_id,
            )
            .outerjoin(Dwelling, Dwelling.id == CaseFile.dwelling_id)
            .where(among(session, CaseFile.id, case_ids))
        )
    }
    hidden = set(case_ids) - cases.keys()
    counted_in: dict[str, frozenset[str] | None] = {}
    asked: dict[str, frozenset[str]] = {}
    for case_id, (covenant_id, *_) in cases.items():
        if covenant_id not in counted_in:
            policy = rules.policy(covenant_id)
            counted_in[covenant_id] = None if policy is None else frozenset(policy.sanction_events)
        counted = counted_in[covenant_id]
        if counted is None:
            hidden.add(case_id)
        elif counted:
            asked[case_id] = counted
    phases = {case_id: {cases[case_id][2]} for case_id in asked}
    for case_id, before, after in session.execute(
        select(CaseTransition.case_id, CaseTransition.from_state, CaseTransition.to_state).where(
            among(session, CaseTransition.case_id, list(asked))
        )
    ):
        seen = phases[case_id]
        seen.add(before)
        seen.add(after)
    made: dict[tuple[str, str, str | None, frozenset[str]], _SanctionView] = {}
    views: dict[str, _SanctionView] = {}
    for case_id, counted in asked.items():
        covenant_id, lead, _, landlord = cases[case_id]
        key = (covenant_id, lead, landlord, frozenset(phases[case_id]))
        view = made.get(key)
        if view is None:
            view = made[key] = _SanctionView(covenant_id, lead, counted, landlord, key[3])
        views[case_id] = view
    return hidden, views


def _could_be_shown(
    covenants: Mapping[str, Covenant], view: _SanctionView, reader: Principal
) -> bool:
    """Whether ``reader`` records, or could be shown in one of the case's phases, an event of
    the case's covenant that counts as a sanction (:func:`sanctions_hidden`)."""
    counted, landlord = view.counted, view.landlord
    covenant = covenants.get(view.covenant_id)
    if covenant is None:
        return False
    if landlord is not None and landlord == reader.partner_id:
        recorded = {e.id for e in covenant.events if e.recorded_by == "dwelling-landlord"}
        if counted & recorded:
            return True
    return any(
        counted & events_shown_in(covenant, reader, phase=phase, lead=view.lead, landlord=landlord)
        for phase in sorted(view.phases)
    )


def sanctions_hidden_in(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    case_id: str,
) -> bool:
    """:func:`sanctions_hidden` for one case (its state, its records, the fact route, the
    410 of an erased case)."""
    return bool(
        sanctions_hidden(session, rules=rules, runtime=runtime, reader=reader, case_ids=[case_id])
    )


def officers_told(
    session: Session,
    *,
    rules: RetentionRules | None,
    covenants: Mapping[str, Covenant],
    verdicts: Mapping[str, tuple[str, str | None]],
) -> dict[str, frozenset[str] | None]:
    """Of each case (``verdicts``: case id to its covenant and rule, as :func:`withheld_from`
    takes them) the partners whose privacy officers :func:`withheld_from` withholds neither
    its rule nor its dates from: the same rule, asked of each partner's officer (an audit
    role, read as its partner's roles). None where the rule's dates tell no sanction, or its
    covenant counts no landlord's measure: withheld from no reader, whoever it is. An empty
    set: no officer (fail closed, as :func:`sanctions_hidden`: rules that did not load, a
    case the gateway does not know, a covenant not loaded). For the retention sweep's audit
    entry of an erased case (docs/retention.md, residual (c)): what it names is the rule and
    the day of the erasure, which :func:`erased_withheld` keeps from the same officers. A
    fixed number of queries, whatever the number of cases."""
    telling = [
        case_id
        for case_id, (covenant_id, rule_id) in verdicts.items()
        if dates_tell_sanctions(rules, covenant_id, rule_id)
    ]
    hidden, asked = _sanction_views(session, rules=rules, case_ids=telling)
    told: dict[str, frozenset[str] | None] = dict.fromkeys(verdicts)
    for case_id in hidden:
        told[case_id] = frozenset()
    # A sweep's thousands of cases share a handful of views: each decided once.
    decided: dict[_SanctionView, frozenset[str]] = {}
    for case_id, view in asked.items():
        if view not in decided:
            decided[view] = frozenset(
                officer.partner_id
                for officer in _officers(covenants.get(view.covenant_id))
                if _could_be_shown(covenants, view, officer)
            )
        told[case_id] = decided[view]
    return told


def _officers(covenant: Covenant | None) -> list[Principal]:
    """Each partner's privacy officer (its first ``audit`` role) in ``covenant``, as the
    covenant file grants it (gateway/auth/service.py ``PartnerDirectory``); none for a
    covenant not loaded."""
    if covenant is None:
        return []
    directory = PartnerDirectory.from_covenants([covenant])
    officers: list[Principal] = []
    for partner in covenant.partners:
        role = next(
            (r for r in partner.roles if (g := directory.grant(partner.id, r)) and g.audits),
            None,
        )
        if role is not None:
            officers.append(
                directory.principal(
                    partner_id=partner.id,
                    role=role,
                    user=None,
                    token_id="retention-sweep",
                    expires_at=datetime.max.replace(tzinfo=UTC),
                )
            )
    return officers


def erased_withheld(
    session: Session,
    *,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
    reader: Principal,
    case_id: str,
    rule_id: str,
) -> Literal["nothing", "day", "rule"]:
    """What ``reader`` is not told of an erased case (the 410 ``case-erased``;
    gateway/retention/problems.py): the rule and the day of its erasure where
    :func:`withheld_from` withholds the rule while the case is kept, the day alone where it
    withholds the rule's dates (the open-case rule), else nothing. A case the gateway does
    not know withholds the rule (fail closed)."""
    covenant_id = session.scalar(select(CaseFile.covenant_id).where(CaseFile.id == case_id))
    if covenant_id is None:
        return "rule"
    views = withheld_from(
        session,
        rules=rules,
        runtime=runtime,
        reader=reader,
        verdicts={case_id: (covenant_id, rule_id)},
    )
    if case_id in views.rules:
        return "rule"
    return "day" if case_id in views.dates else "nothing"
