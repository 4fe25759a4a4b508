"""The retention page's rows in Dutch: the rule by its Dutch name and why the case is due
when it is, built from the stored verdict's parts (rule, source date, due date) and the
covenant's rules. The verdict's own ``reason`` is the API's English and is not shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.web.pages import _format_date

#: The named ways a source date is derived (``gateway.retention.rules.SourceDateKind``).
SOURCE_DATES = {
    "mediation-ended": "Bemiddeling afgerond",
    "resident-moved-out": "Bewoner verhuisd",
    "last-sanction-imposed": "Laatste sanctie opgelegd",
    "case-closed": "Zaak afgesloten",
    "recorded-date": "Vastgelegde datum",
    "last-activity": "Laatste activiteit in de zaak",
}


#: Why a row shows neither the rule nor its dates (``OverviewCase.rule_withheld``).
SANCTION_WITHHELD = (
    "Bewaard onder een bewaarregel; welke regel en de datums ervan ziet u niet: welke "
    "regel geldt, hangt af van gegevens die u niet worden getoond."
)


#: Why a row shows no date (``OverviewCase.due_withheld``).
DATE_WITHHELD = "Vernietigen op een datum die u niet wordt getoond."


@dataclass(frozen=True)
class RetentionRow:
    case: Any
    rule_name: str
    why: str


def period_text(period: Any) -> str:
    """``Period(months=24)`` as "24 maanden"; no time at all as "direct"."""
    parts = [
        (period.years, "jaar", "jaar"),
        (period.months, "maand", "maanden"),
        (period.days, "dag", "dagen"),
    ]
    words = [f"{n} {one if n == 1 else many}" for n, one, many in parts if n]
    return " en ".join(words) if words else "direct"


def _term_for(rules: Any, rule: Any, start: date, due: date) -> Any:
    """The term of ``rule`` that gives ``due`` from ``start`` (a rule may combine several:
    "while the resident lives there, at most two years after the last sanction")."""
    for term in rule.terms:
        if rules.period(term.period).after(start) == due:
            return term
    return rule.terms[0]


def explain(rules: Any, covenant_id: str, case: Any) -> RetentionRow:
    policy = rules.policy(covenant_id) if rules is not None else None
    rule = policy.rule(case.rule) if policy is not None and case.rule else None
    open_rule = policy.open_cases if policy is not None else None
    start, due = case.source_date, case.due_on
    if case.due_withheld:
        # The day is the resident's move-out, told to the lead and the partner that recorded
        # it only (review5b p5b), or an open case's last activity, which can be a landlord's
        # measure this officer's partner could not be shown: no word of either, no date.
        name = open_rule.name if open_rule is not None and case.rule == open_rule.id else None
        return RetentionRow(
            case=case,
            rule_name=name or ((rule.name or rule.id) if rule is not None else (case.rule or "—")),
            why=DATE_WITHHELD,
        )
    if open_rule is not None and case.rule == open_rule.id:
        period = period_text(rules.period(open_rule.period))
        why = (
            f"Open zaak zonder activiteit sinds {_format_date(start)}; {period} daarna "
            "vernietigd, tenzij er eerder weer activiteit is."
        )
        return RetentionRow(case=case, rule_name=open_rule.name or open_rule.id, why=why)
    if case.rule_withheld:
        # The rule is chosen by sanctions whose landlord's measures this officer's partner
        # could not be shown (review10 F1, review11 N1; gateway/retention/sanctions.py): the
        # same words whether the case holds a measure or not.
        return RetentionRow(case=case, rule_name="—", why=SANCTION_WITHHELD)
    if rule is None or start is None or due is None:
        return RetentionRow(
            case=case,
            rule_name=(rule.name or rule.id) if rule is not None else (case.rule or "—"),
            why="Vernietigen op de archiefactiedatum.",
        )
    term = _term_for(rules, rule, start, due)
    period = period_text(rules.period(term.period))
    if case.restarted:
        moment = (
            f"Nieuwe melding over dezelfde bewoner op {_format_date(start)} "
            "(de termijn begon opnieuw)"
        )
    else:
        moment = f"{SOURCE_DATES.get(term.source_date, 'Begindatum')} op {_format_date(start)}"
    why = f"{moment}; vernietigen {period} daarna." if period != "direct" else f"{moment}."
    return RetentionRow(case=case, rule_name=rule.name or rule.id, why=why)


def retention_rows(context: Any, covenant_id: str, overview: Any) -> list[RetentionRow]:
    rules = context.retention.rules if context.retention is not None else None
    return [explain(rules, covenant_id, case) for case in overview.due]
