"""The latest word on a consent: the one rule the workflow and the policy both follow.

A consent kind (the corporation's permission, U §5.1-5.2; the OM's consent, U §5.3; any
future one) is given by a party entitled to give it. That party may answer more than once:
grant, refuse, grant again, withdraw. Only its latest answer counts, and a withdrawal is an
answer too. :func:`current_answers` computes it; the take-on guard
(gateway/cases/guards.py), the case page's "live" flag (gateway/cases/service.py) and the
policy input (``case_policy_facts``) all read it, so the workflow and the policy never
disagree about whether a permission stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

CORPORATION_PERMISSION = "corporation-permission"
OM_CONSENT = "om-consent"


class ConsentRecord(Protocol):
    """What the rule reads of a recorded consent (an ORM row or a plain query row)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def partner_id(self) -> str: ...
    @property
    def granted(self) -> bool: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def withdrawn_at(self) -> datetime | None: ...


C = TypeVar("C", bound=ConsentRecord)

# At the same instant a "no" outweighs a "yes": fail closed.
_GRANT, _REFUSAL, _WITHDRAWAL = 0, 1, 2


@dataclass(frozen=True)
class Answer(Generic[C]):
    """A party's latest answer on one consent kind (and, for a kind that covers data
    categories, one category): the consent it last recorded or withdrew, and whether that
    answer is a grant (a refusal or a withdrawal is not)."""

    consent: C
    granted: bool
    at: datetime


#: Consent kinds that cover named data categories (the OM consents per category, U §5.3);
#: a party's answer on one category does not change its answer on another. The other kinds
#: (the corporation's permission) cover the whole case and name no scope: recording one with
#: a scope is refused (gateway/cases/changes.py, review4 finding 8), and a scope stored before
#: that is ignored here.
SCOPED_KINDS = frozenset({OM_CONSENT})

#: ``(kind, partner, category)``; category is "" for a kind that covers the whole case.
AnswerKey = tuple[str, str, str]


def _subjects(consent: ConsentRecord, scope: Iterable[str]) -> list[str]:
    return sorted(set(scope)) if consent.kind in SCOPED_KINDS else [""]


def current_answers(
    consents: Iterable[tuple[C, Iterable[str]]], *, dwelling_corporation: str | None
) -> dict[AnswerKey, Answer[C]]:
    """``{(kind, partner, category): latest answer}`` of the parties entitled to answer,
    from ``(consent, its scope)`` pairs.

    The corporation's permission counts only from the corporation that owns the dwelling
    (U §5.1 "toestemming aan de corporatie"); the other kinds are restricted to their
    entitled party when recorded (gateway/cases/changes.py). Each grant or refusal is an
    answer at its ``recorded_at``, each withdrawal an answer "no" at its ``withdrawn_at``;
    the latest answer wins, so a refusal or a withdrawal after a grant ends it and a grant
    after a refusal restores it. Expiry is not judged here: an expired grant is still the
    latest answer, and whoever reads it says it expired (the policy: "om-consent-expired").
    """
    latest: dict[AnswerKey, tuple[tuple[datetime, int, str], Answer[C]]] = {}
    for consent, scope in consents:
        if consent.kind == CORPORATION_PERMISSION and consent.partner_id != dwelling_corporation:
            continue
        events = [(consent.recorded_at, _GRANT if consent.granted else _REFUSAL)]
        if consent.withdrawn_at is not None:
            events.append((consent.withdrawn_at, _WITHDRAWAL))
        for subject in _subjects(consent, scope):
            key = (consent.kind, consent.partner_id, subject)
            for at, rank in events:
                order = (at, rank, consent.id)
                if key not in latest or order > latest[key][0]:
                    latest[key] = (order, Answer(consent=consent, granted=rank == _GRANT, at=at))
    return {key: answer for key, (_, answer) in latest.items()}


@dataclass(frozen=True)
class Granted(Generic[C]):
    """A consent that is its party's latest answer, and a grant, for ``categories`` (all of
    its scope, or the part no later answer changed; empty for a whole-case kind)."""

    consent: C
    categories: list[str]


def granted_consents(
    consents: Iterable[tuple[C, Iterable[str]]], *, dwelling_corporation: str | None
) -> list[Granted[C]]:
    """The grants that stand, in recording order: what the policy input carries."""
    answers = current_answers(consents, dwelling_corporation=dwelling_corporation)
    standing: dict[str, Granted[C]] = {}
    for (_, _, category), answer in answers.items():
        if not answer.granted:
            continue
        found = standing.setdefault(answer.consent.id, Granted(answer.consent, []))
        if category:
            found.categories.append(category)
    return sorted(standing.values(), key=lambda g: (g.consent.recorded_at, g.consent.id))


def is_standing(
    consent: C, consents: Iterable[tuple[C, Iterable[str]]], *, dwelling_corporation: str | None
) -> bool:
    """Whether ``consent`` is (for at least one category) its party's standing grant."""
    return any(
        g.consent.id == consent.id
        for g in granted_consents(consents, dwelling_corporation=dwelling_corporation)
    )
