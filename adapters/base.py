"""What every reference adapter has in common: export records become category answers.

A partner adapter knows three things about its partner kind: the record model of its
export, which fact of a record answers which category (in both covenants), and which
categories it pushes on its own initiative. The loop in ``adapters.runner`` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BeforeValidator

from adapters.exports import ExportRecord
from adapters.sdk import AnswerForm, CategoryAnswer, Consent, ConsentIn, KetenpoortClient
from gateway.core.dutch_date import dutch_day_last_second

R = TypeVar("R", bound=ExportRecord)

#: A record's fact for one category: detail text, a yes/no, or None when it holds nothing.
Fact = str | bool | None

_TRUE = {"true", "yes", "y", "ja", "j", "1", "on"}
_FALSE = {"false", "no", "n", "nee", "0", "off"}


def _flag(value: Any) -> Any:
    """Exports from Dutch back offices say ja/nee as often as true/false."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]


def end_of_day(day: date) -> datetime:
    """A consent that expires "on" a date holds through that whole day in the Netherlands
    (the last second of it, in UTC). Not through the UTC day: that runs on until 01:00 or
    02:00 the next morning in Amsterdam, when the consent has ended."""
    return dutch_day_last_second(day)


def join_lines(parts: list[str]) -> str:
    return "; ".join(p.strip() for p in parts if p.strip())


@dataclass(frozen=True, slots=True)
class Push:
    """A fact this partner adds to a case on its own initiative."""

    category: str
    value: str | None = None
    yes_no: bool | None = None


class PartnerAdapter(Generic[R]):
    """Base of the reference adapters; subclasses fill in the class attributes."""

    #: The command name and the partner kind it serves ("police", "housing-corporation"...).
    command: ClassVar[str]
    partner_kind: ClassVar[str]
    record_model: type[R]
    #: category id -> the fact of a record that answers it (both covenants' ids).
    categories: ClassVar[Mapping[str, Callable[[Any], Fact]]]
    #: Categories pushed to the case when they change (a subset of ``categories``).
    push_categories: ClassVar[frozenset[str]] = frozenset()

    def fact(self, category: str, record: R | None) -> Fact:
        if record is None:
            return None
        extract = self.categories.get(category)
        return extract(record) if extract is not None else None

    def answers(
        self, categories: list[str], forms: Mapping[str, AnswerForm], record: R | None
    ) -> list[CategoryAnswer]:
        """One answer per asked category; built whole before anything is sent."""
        return [
            category_answer(c, forms.get(c, "detail"), self.fact(c, record)) for c in categories
        ]

    def pushes(self, record: R, covenant_categories: frozenset[str] | None) -> list[Push]:
        """The facts to push for a record: only categories the case's covenant has."""
        result = []
        for category in sorted(self.push_categories):
            if covenant_categories is not None and category not in covenant_categories:
                continue
            fact = self.fact(category, record)
            if isinstance(fact, bool):
                result.append(Push(category, yes_no=fact))
            elif fact:
                result.append(Push(category, value=fact))
        return result

    def permission(self, record: R | None) -> ConsentIn | None:
        """A corporation's permission decision for a case, if its export has one."""
        return None

    async def sync_case(
        self, client: KetenpoortClient, case_id: str, record: R, say: Callable[[str], None]
    ) -> None:
        """Bring the gateway's view of the case up to date before answering (police:
        investigation status and OM consents, which the policy decides on)."""
        del client, case_id, record, say

    async def case_left_export(
        self, client: KetenpoortClient, case_id: str, label: str, say: Callable[[str], None]
    ) -> None:
        """The partner is involved in the case, but its export has no record of it (any
        more). The police adapter withdraws its OM consents on the case (they stand only
        while the export carries them); the corporation adapter leaves its permission and
        says so (docs/adapters.md, "When the export changes")."""
        del client, case_id, label, say


def own_consents(client: KetenpoortClient, consents: Iterable[Consent], kind: str) -> list[Consent]:
    """The consents of ``kind`` this partner recorded on a case (any state)."""
    return [c for c in consents if c.kind == kind and c.partner_id == client.partner_id]


def consent_idempotency_key(
    client: KetenpoortClient, operation: str, case_id: str, *parts: str, earlier: Iterable[Consent]
) -> str:
    """The key of recording a consent: the same answer on the same history is one request.

    ``earlier`` are the partner's consents the new one follows (the same OM consent,
    superseded; an earlier permission answer): a later grant, refusal or renewal is a new
    request, not a replay of the first one (the gateway would replay its old response, or
    refuse the key for another body). A repeat after a crash sees the same history and
    gets the same key, so nothing is recorded twice.
    """
    return client.idempotency_key_for(operation, case_id, *parts, *sorted(c.id for c in earlier))


def category_answer(category: str, form: AnswerForm, fact: Fact) -> CategoryAnswer:
    """A fact in the form the request asks: for a 'whether' category never the detail."""
    if fact is None or fact == "":
        return CategoryAnswer.unavailable(category)
    if form == "yes-no":
        # Data minimisation (U §5.3 "het feit of"): a detail fact only says that there is one.
        return CategoryAnswer.whether(category, fact if isinstance(fact, bool) else True)
    if isinstance(fact, bool):
        return CategoryAnswer.detail(category, "yes" if fact else "no")
    return CategoryAnswer.detail(category, fact)
