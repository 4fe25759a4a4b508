"""The typed policy input and decision."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


_M = TypeVar("_M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def _trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """An instance from values the policy domain built itself, without validation.

    What ``model_construct`` does, minus its per-field default handling (a third of the
    cost of a decision): every field is given, so ``fields_set`` (all the fields) is one
    set per class, shared: pydantic never changes it in place on a frozen model
    (``model_copy`` copies it). The equality test in tests/policy guards this against a
    pydantic upgrade.
    """
    instance = _new(cls)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


#: Decision ids made per call of os.urandom; see ``new_decision_id``.
_ID_BATCH = 64
_ids: list[str] = []
# A forked child must not hand out the ids its parent still holds.
os.register_at_fork(after_in_child=_ids.clear)


#: The variant digit (RFC 4122: binary 10xx) for each random hex digit: its two low bits kept.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _uuid4(h: str) -> str:
    # A table lookup, not int(h[16], 16) per id: ~160 instead of ~300 ns an id (issue 20).
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def new_decision_id() -> str:
    """A random (version 4) UUID as text; formatted by hand, from one os.urandom call per
    64 ids (three times as fast as uuid4()). ``list.pop`` is atomic, so threads never share
    an id; two threads refilling at once only make more."""
    try:
        return _ids.pop()
    except IndexError:
        pass
    raw = os.urandom(16 * _ID_BATCH).hex()
    batch = [_uuid4(raw[i : i + 32]) for i in range(0, len(raw), 32)]
    decision_id = batch.pop()
    _ids.extend(batch)
    return decision_id


class Requester(_Model):
    partner: str
    role: str
    user: str = Field(description="Pseudonymous user id; never logged by the policy domain.")


class Dwelling(_Model):
    ownership: Literal["corporation", "private-rental", "owner-occupied"]
    corporation: str | None = Field(
        default=None, description="Partner id, for ownership=corporation."
    )


class CaseEventFact(_Model):
    """A case event on record (e.g. the landlord's eviction procedure, U §5.2), and who
    recorded it; a clause can require one (``{event: <id>}``)."""

    kind: str
    partner: str


class CaseContext(_Model):
    id: str
    covenant: str
    phase: str
    team: list[str] = Field(description="Partner ids in the case team: the need-to-know set.")
    lead: str | None = Field(
        default=None, description="The partner holding the lead (regie); None: not known."
    )
    dwelling: Dwelling
    police_investigation: bool | None = Field(
        default=None,
        description=(
            "Whether a police investigation runs (U §5.3); recorded by the police. None: "
            "nobody recorded it yet, which the policy treats as if one runs."
        ),
    )
    events: list[CaseEventFact] = Field(
        default_factory=list, description="The case events recorded on the case."
    )
    dwelling_pollution: bool | None = Field(
        default=None,
        description=(
            "Whether pollution of the dwelling is part of the nuisance (U §5.4); recorded by "
            "the case lead. None: nobody recorded it, which the policy treats as no."
        ),
    )


class Consent(_Model):
    kind: Literal["om-consent", "corporation-permission"]
    case: str
    partner: str = Field(description="Recording partner: the police (OM) or the corporation.")
    categories: list[str] = Field(default_factory=list)
    granted_at: datetime
    expires_at: datetime | None = None


class PolicyInput(_Model):
    requester: Requester
    case: CaseContext
    categories: list[str]
    purpose: str
    consents: list[Consent] = Field(default_factory=list)
    now: datetime

    def document(self) -> dict[str, Any]:
        """The engine input; built by hand (cheaper than model_dump) with Unix-second times."""
        case = self.case
        consents = []
        for c in self.consents:
            doc: dict[str, Any] = {
                "kind": c.kind,
                "case": c.case,
                "partner": c.partner,
                "categories": c.categories,
                "grantedAt": int(c.granted_at.timestamp()),
            }
            if c.expires_at is not None:
                doc["expiresAt"] = int(c.expires_at.timestamp())
            consents.append(doc)
        return {
            "requester": {
                "partner": self.requester.partner,
                "role": self.requester.role,
                "user": self.requester.user,
            },
            "case": {
                "id": case.id,
                "covenant": case.covenant,
                "phase": case.phase,
                "team": case.team,
                "lead": case.lead,
                "dwelling": {
                    "ownership": case.dwelling.ownership,
                    "corporation": case.dwelling.corporation,
                },
                "policeInvestigation": case.police_investigation,
                "events": [{"kind": e.kind, "partner": e.partner} for e in case.events],
                "dwellingPollution": case.dwelling_pollution,
            },
            "categories": self.categories,
            "purpose": self.purpose,
            "consents": consents,
            "now": int(self.now.timestamp()),
        }


class CategoryDecision(_Model):
    outcome: Literal["disclose", "redact"]
    answer: Literal["detail", "yes-no", "none"] = Field(
        description="'yes-no': disclose only whether, never detail."
    )
    clauses: list[str]
    reasons: list[str]

    @classmethod
    def trusted(cls, outcome: str, answer: str, clauses: list[str], reasons: list[str]) -> Self:
        """Built by the engine from the policy's own output; see ``_trusted``."""
        return _trusted(
            cls,
            {"outcome": outcome, "answer": answer, "clauses": clauses, "reasons": reasons},
            _CATEGORY_FIELDS,
        )

    @property
    def reason(self) -> str:
        return "clause-applies" if self.outcome == "disclose" else self.reasons[0]


class Decision(_Model):
    allow: bool
    categories: dict[str, CategoryDecision]
    clauses: list[str]
    errors: list[str]
    bundle_revision: str | None
    decision_id: str
    engine: str

    @classmethod
    def trusted(
        cls,
        *,
        allow: bool,
        categories: dict[str, CategoryDecision],
        clauses: list[str],
        errors: list[str],
        bundle_revision: str | None,
        decision_id: str,
        engine: str,
    ) -> Self:
        """Built by the engine from the policy's own output; see ``_trusted``."""
        return _trusted(
            cls,
            {
                "allow": allow,
                "categories": categories,
                "clauses": clauses,
                "errors": errors,
                "bundle_revision": bundle_revision,
                "decision_id": decision_id,
                "engine": engine,
            },
            _DECISION_FIELDS,
        )

    def disclosed(self) -> list[str]:
        return [c for c, d in self.categories.items() if d.outcome == "disclose"]


_CATEGORY_FIELDS = set(CategoryDecision.model_fields)
_DECISION_FIELDS = set(Decision.model_fields)
