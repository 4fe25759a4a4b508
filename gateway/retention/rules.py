"""Retention rules as data, and the pure function that applies them to one case's facts.

Modelled on the ZGW archiving model ("archiefnominatie", "brondatum", "afleidingswijze",
"archiefactietermijn"): a rule covers a kind of case (``appliesTo``), derives one or more
source dates in named ways (``terms[].sourceDate``), adds a period to each, combines them
(``combine``) and names the events that restart the clock (``restartedBy``). The result is
the *due date*: from that day on the case's dossier is erased (ZGW's "archiefactiedatum").

Rules live in ``policies/<covenant-id>/retention.yaml``; nothing here touches a database.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from gateway.core import yaml_text
from gateway.core.errors import ServiceUnavailable
from gateway.policy.layout import RETENTION_FILE, covenant_folders, id_mismatch

#: The named ways to derive a source date ("afleidingswijze").
SourceDateKind = Literal[
    "mediation-ended",
    "resident-moved-out",
    "last-sanction-imposed",
    "case-closed",
    "recorded-date",
    "last-activity",
]
RestartEvent = Literal["report-about-same-resident"]
#: Periods the sources do not state: the gateway's configurable defaults (docs/retention.md).
#: ``default``: Utrecht's period after closure; ``unsanctioned-default``: a Rijswijk case
#: closed without sanctions and without a mediation that solved it; ``inactive-default``: an
#: open case without activity (storage limitation, AVG art. 5(1)(e)).
NamedPeriod = Literal["default", "unsanctioned-default", "inactive-default"]
DEFAULT_MONTHS: dict[str, int] = {
    "default": 24,
    "unsanctioned-default": 12,
    "inactive-default": 12,
}


class RetentionPolicyInvalid(ServiceUnavailable):
    """A retention file does not validate: fail closed (no sweep runs on broken rules)."""

    problem = "retention-policy-invalid"
    title = "Retention policy invalid"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Period(_Model):
    years: int = Field(default=0, ge=0, le=100)
    months: int = Field(default=0, ge=0, le=1200)
    days: int = Field(default=0, ge=0, le=36500)

    def after(self, start: date) -> date:
        """``start`` plus this period; a month end clamps (31 Jan + 1 month = 28/29 Feb)."""
        month_index = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, days_in_month(year, month))
        return date(year, month, day) + timedelta(days=self.days)

    def text(self) -> str:
        # Every verdict's reason names its period: spelled once per period (a sweep
        # computes a verdict per case; cProfile at 100k: a tenth of the verdicts' Python).
        return _period_text(self.years, self.months, self.days)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """``calendar.monthrange(year, month)[1]`` without the weekday it also computes (a
    sweep adds a period to a date for every verdict: the weekday was a tenth of the
    verdicts' Python; tests/retention/test_rules.py compares every month of 1..9999)."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


@lru_cache(maxsize=256)
def _period_text(years: int, months: int, days: int) -> str:
    parts = [(years, "year"), (months, "month"), (days, "day")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return ", ".join(words) if words else "0 days"


class Term(_Model):
    source_date: SourceDateKind
    #: For ``recorded-date``: which date recorded on the case (e.g. ``court-ruling``).
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,59}$")
    #: A named period takes the configured default (the source states none).
    period: Period | NamedPeriod

    @model_validator(mode="after")
    def _name_for_recorded(self) -> Term:
        if (self.source_date == "recorded-date") != (self.name is not None):
            raise ValueError("'name' is required for, and only for, sourceDate recorded-date")
        return self


class AppliesTo(_Model):
    """Which cases a rule covers; an empty selector covers every case not matched before."""

    mediation: Literal["solved", "failed", "none"] | None = None
    sanctioned: bool | None = None
    complexity: Literal["simple", "complex"] | None = None


class RetentionRule(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,99}$")
    #: The rule in Dutch, as the privacy officer's pages name it (``description`` is the
    #: English of the API and the command line).
    name: str | None = Field(default=None, max_length=200)
    description: str
    source: str
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    terms: list[Term] = Field(min_length=1)
    combine: Literal["earliest", "latest"] = "earliest"
    restarted_by: list[RestartEvent] = Field(default_factory=list)


class OpenCases(_Model):
    """No case is kept without an end: an open case without activity for ``period`` is due
    too (AVG art. 5(1)(e)), and its lead is warned ``warn_before`` ahead of the erasure."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,99}$")
    name: str | None = Field(default=None, max_length=200)
    description: str
    source: str
    period: Period | NamedPeriod
    warn_before: Period = Field(default_factory=lambda: Period(days=30))


class RetentionPolicy(_Model):
    covenant: str
    source: str
    sanction_instruments: list[str] = Field(default_factory=list)
    #: The covenant's case events (``events`` in covenant.yaml) that are sanctions against
    #: the causer when the dwelling's landlord records them (R Bijlage D fase 4a, Bijlage E
    #: and F: the corporation's behavioural order, last-chance contract, eviction procedure).
    sanction_events: list[str] = Field(default_factory=list)
    #: The workflow states whose end is "the mediation ended" (R §3.4; Bijlage D 2a and
    #: Bijlage F: mediation in the complex and in the simple path).
    mediation_states: list[str] = Field(default_factory=lambda: ["mediation"])
    rules: list[RetentionRule] = Field(min_length=1)
    open_cases: OpenCases | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> RetentionPolicy:
        ids = [rule.id for rule in self.rules] + ([self.open_cases.id] if self.open_cases else [])
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique within a covenant")
        return self

    def rule(self, rule_id: str) -> RetentionRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def sanctions(self) -> frozenset[str]:
        """The ``detail`` of the ``sanction-imposed`` facts that are sanctions: the listed
        instruments of the enforcement measures and, as ``event:<kind>``, the listed case
        events (gateway/retention/casefacts.py imports both)."""
        return frozenset(self.sanction_instruments) | {
            sanction_event(kind) for kind in self.sanction_events
        }


#: How the ``detail`` of a ``sanction-imposed`` fact imported from a case event begins.
SANCTION_EVENT_PREFIX = "event:"


def sanction_event(kind: str) -> str:
    """The ``detail`` of a ``sanction-imposed`` fact imported from a case event."""
    return f"{SANCTION_EVENT_PREFIX}{kind}"


@dataclass(frozen=True)
class RetentionRules:
    """All covenants' retention policies plus the configured default period."""

    policies: dict[str, RetentionPolicy]
    default_period: Period
    #: A hash of the rules and the default: cases computed under another revision are stale.
    revision: str
    #: Every named period (``default`` included), as configured.
    named_periods: dict[str, Period] = field(default_factory=dict)

    def policy(self, covenant_id: str) -> RetentionPolicy | None:
        return self.policies.get(covenant_id)

    def rule_ids(self, covenant_id: str) -> frozenset[str]:
        """The ids of ``covenant_id``'s retention rules (its open cases' included): what an
        erasure's audit entry cites as its clause (gateway/retention/sweeper.py), no category
        of the covenant. Empty for a covenant without a policy."""
        policy = self.policies.get(covenant_id)
        if policy is None:
            return frozenset()
        ids = {rule.id for rule in policy.rules}
        if policy.open_cases is not None:
            ids.add(policy.open_cases.id)
        return frozenset(ids)

    def period(self, period: Period | str) -> Period:
        if isinstance(period, Period):
            return period
        if period == "default":
            return self.default_period
        return self.named_periods.get(period) or Period(months=DEFAULT_MONTHS[period])


def load_rules(
    directory: Path | None = None,
    *,
    default_months: int = DEFAULT_MONTHS["default"],
    unsanctioned_months: int = DEFAULT_MONTHS["unsanctioned-default"],
    inactive_months: int = DEFAULT_MONTHS["inactive-default"],
) -> RetentionRules:
    """Read ``<id>/retention.yaml`` of every covenant folder in ``directory`` (default: the
    packaged ones); raise RetentionPolicyInvalid (naming the file) or CovenantError (the
    layout, gateway/policy/layout.py)."""
    policies: dict[str, RetentionPolicy] = {}
    named = {
        "default": Period(months=default_months),
        "unsanctioned-default": Period(months=unsanctioned_months),
        "inactive-default": Period(months=inactive_months),
    }
    digest = hashlib.sha256("".join(f"{name}={p.months};" for name, p in named.items()).encode())
    for folder in covenant_folders(directory):
        raw = folder.retention.read_bytes()
        file_name = f"{folder.id}/{RETENTION_FILE}"  # short: it goes into the readiness check
        # The name each file had before the folders (``<id>.yaml``), so the rules'
        # revision (stored with each verdict; another revision makes it stale) stays the same
        # when only the layout changed.
        digest.update(f"{folder.id}.yaml".encode() + b"\0" + raw)
        try:
            policy = RetentionPolicy.model_validate(yaml_text.safe_load(raw))
        except (ValidationError, yaml.YAMLError) as exc:
            raise RetentionPolicyInvalid(f"{file_name}: {exc}") from None
        if policy.covenant != folder.id:
            raise RetentionPolicyInvalid(
                f"{file_name}: {id_mismatch('covenant', policy.covenant, folder)}"
            )
        policies[policy.covenant] = policy
    return RetentionRules(policies, named["default"], digest.hexdigest()[:16], named)


# -- applying a rule ---------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one case; dates are calendar dates (Amsterdam)."""

    mediation_ended: date | None = None
    #: ``solved`` when the mediation ended the nuisance, ``failed`` when it escalated.
    mediation_outcome: str | None = None
    last_sanction: date | None = None
    moved_out: date | None = None
    closed: date | None = None
    complexity: str | None = None
    #: Reports about the same resident (this case and the covenant's other cases).
    resident_reports: Sequence[date] = ()
    recorded: dict[str, date] = field(default_factory=dict)
    #: The latest dated event of the case (a report, a transition, a fact recorded).
    last_activity: date | None = None


@dataclass(frozen=True)
class Verdict:
    """The retention state of a case: which rule, the due date (None: not yet known), why."""

    rule_id: str | None
    source_date: date | None
    due_on: date | None
    reason: str
    #: The term whose source date decided (None while no term's date is known).
    term: Term | None = None


def select_rule(policy: RetentionPolicy, facts: CaseFacts) -> RetentionRule | None:
    for rule in policy.rules:
        if _covers(rule.applies_to, facts, policy):
            return rule
    return None


def _covers(selector: AppliesTo, facts: CaseFacts, policy: RetentionPolicy) -> bool:
    del policy
    if selector.mediation is not None:
        outcome = facts.mediation_outcome if facts.mediation_ended else None
        if (outcome or "none") != selector.mediation:
            return False
    if selector.sanctioned is not None and (facts.last_sanction is not None) != selector.sanctioned:
        return False
    return selector.complexity is None or facts.complexity == selector.complexity


def _source_date(term: Term, facts: CaseFacts) -> date | None:
    match term.source_date:
        case "mediation-ended":
            return facts.mediation_ended
        case "resident-moved-out":
            return facts.moved_out
        case "last-sanction-imposed":
            return facts.last_sanction
        case "case-closed":
            return facts.closed
        case "recorded-date":
            return facts.recorded.get(term.name or "")
        case "last-activity":
            return facts.last_activity


def evaluate(rules: RetentionRules, covenant_id: str, facts: CaseFacts) -> Verdict:
    """The due date of a case under its covenant's rules, with the reason in words. An open
    case is also due once it has had no activity for the covenant's ``openCases`` period,
    when that comes first: no case is kept without an end."""
    policy = rules.policy(covenant_id)
    if policy is None:
        return Verdict(None, None, None, f"No retention rules for covenant '{covenant_id}'; kept.")
    verdict = _rule_verdict(rules, policy, facts)
    open_rule = policy.open_cases
    if open_rule is None or facts.closed is not None or facts.last_activity is None:
        return verdict
    period = rules.period(open_rule.period)
    due = period.after(facts.last_activity)
    if verdict.due_on is not None and verdict.due_on <= due:
        return verdict
    return Verdict(
        open_rule.id,
        facts.last_activity,
        due,
        f"{open_rule.id}: open, no activity since {facts.last_activity.isoformat()} + "
        f"{period.text()} = due {due.isoformat()}; the lead is warned "
        f"{open_rule.warn_before.text()} before.",
        Term(source_date="last-activity", period=open_rule.period),
    )


def warning_starts(rules: RetentionRules, covenant_id: str, due_on: date) -> date | None:
    """From which day the lead of an open case is warned that its dossier will be erased on
    ``due_on`` (the covenant's ``openCases.warnBefore``); None without an openCases rule."""
    policy = rules.policy(covenant_id)
    if policy is None or policy.open_cases is None:
        return None
    before = policy.open_cases.warn_before
    months = before.months + 12 * before.years
    back = _months_back(due_on, months)
    return back - timedelta(days=before.days)


def _months_back(day: date, months: int) -> date:
    index = day.month - 1 - months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


def _rule_verdict(rules: RetentionRules, policy: RetentionPolicy, facts: CaseFacts) -> Verdict:
    rule = select_rule(policy, facts)
    if rule is None:
        return Verdict(None, None, None, "No retention rule covers this case; kept.")
    candidates: list[tuple[date, date, str, Term]] = []
    waiting: list[str] = []
    for term in rule.terms:
        period = rules.period(term.period)
        start = _source_date(term, facts)
        label = term.name if term.source_date == "recorded-date" and term.name else term.source_date
        if start is None or (term.source_date == "resident-moved-out" and facts.closed is None):
            # An open case stays under the open-case rule until it is closed: the move-out
            # term starts no earlier than the closure (a choice, review8a F5: a move-out
            # recorded on an open case made it due that day, erased mid-workflow, its
            # lead's warning overdue on arrival). docs/retention.md, "What a move does".
            waiting.append(label)
            continue
        why = f"{label} on {start.isoformat()}"
        moved, closed = term.source_date == "resident-moved-out", facts.closed
        if moved and closed is not None and closed > start:
            start = closed
            why += f", counted from the closure on {start.isoformat()}"
        due = period.after(start)
        why += f" + {period.text()}"
        if "report-about-same-resident" in rule.restarted_by:
            start, due, why = _restart(start, due, period, facts.resident_reports, why)
        candidates.append((due, start, why, term))
    if not candidates:
        return Verdict(
            rule.id, None, None, f"{rule.id}: kept until {' / '.join(waiting)} is known."
        )
    pick = min if rule.combine == "earliest" else max
    due, start, why, term = pick(candidates, key=lambda candidate: candidate[:3])
    note = f"; not yet known: {', '.join(waiting)}" if waiting else ""
    return Verdict(rule.id, start, due, f"{rule.id}: {why} = due {due.isoformat()}{note}.", term)


#: How a verdict's reason says that a new report restarted the term (see :func:`restarted`).
RESTARTED = "restarted by a new report on"


def restarted(reason: str) -> bool:
    """Whether a stored verdict's reason is a term restarted by a new report about the same
    resident: the verdict keeps only its source date (the report's), not which event it was."""
    return RESTARTED in reason


#: How a verdict's reason says that the resident's move-out decided the due date (the
#: term's label and its date, as :func:`_rule_verdict` writes it; see :func:`moved_out`).
MOVED_OUT = "resident-moved-out on"


def moved_out(reason: str) -> bool:
    """Whether a stored verdict's reason is a term that runs from the resident's move-out:
    its source date and due date are the day the resident moved (R §3.4 "zolang de bewoner
    het pand bewoont"), which the sources tell the case manager only (review5b p5b)."""
    return MOVED_OUT in reason


def _restart(
    start: date, due: date, period: Period, reports: Sequence[date], why: str
) -> tuple[date, date, str]:
    """A new report about the same resident *within* the term starts it again from that
    report. ASSUMPTION: R §3.4 only states a condition ("Voorwaarde is wel dat er binnen die
    termijn geen nieuwe overlastmelding over dezelfde bewoner binnenkomt"), not what a new
    report does; the gateway reads it as a restart (docs/retention.md). A report on or after
    the due date comes too late: the term had ended."""
    for report in sorted(reports):
        if start < report < due:
            start, due = report, period.after(report)
            why = (
                f"{RESTARTED} {report.isoformat()} (assumption: R §3.4 "
                f"states a condition, not a restart) + {period.text()}"
            )
    return start, due, why
