"""Turning covenants into form choices and form fields into service requests.

The information-request form offers only what the covenant could allow for this case: the
purposes and categories of clauses that name the user's role as recipient and the case's
phase, asked of case-team partners of the kind that holds them. The policy still decides
each category when the request is made (consents, investigations), so an offered category
can come back redacted, with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.auth.principal import Principal
from gateway.core.errors import Unprocessable


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


@dataclass
class PartnerChoice:
    partner_id: str
    partner_name: str
    categories: list[Choice] = field(default_factory=list)


@dataclass
class RequestOptions:
    purposes: list[Choice]
    partners: list[PartnerChoice]

    @property
    def pairs(self) -> set[tuple[str, str]]:
        return {(p.partner_id, c.id) for p in self.partners for c in p.categories}


def request_options(covenant: Any, summary: Any, principal: Principal) -> RequestOptions:
    if covenant is None:
        return RequestOptions(purposes=[], partners=[])
    clauses = [
        c for c in covenant.clauses if principal.role in c.roles and summary.state in c.phases
    ]
    purpose_ids: list[str] = []
    categories_by_kind: dict[str, list[str]] = {}
    for clause in clauses:
        purpose_ids.extend(p for p in clause.purposes if p not in purpose_ids)
        kind = categories_by_kind.setdefault(clause.provider, [])
        kind.extend(c for c in clause.categories if c not in kind)
    purposes = [
        Choice(id=p, name=covenant.purpose(p).name if covenant.purpose(p) else p)
        for p in purpose_ids
    ]
    partners: list[PartnerChoice] = []
    for partner_id in summary.team:
        partner = covenant.partner(partner_id)
        if partner is None or partner_id == principal.partner_id:
            continue
        offered = categories_by_kind.get(partner.kind, [])
        if not offered:
            continue
        choice = PartnerChoice(partner_id=partner.id, partner_name=partner.name)
        for category_id in offered:
            category = covenant.category(category_id)
            choice.categories.append(
                Choice(id=category_id, name=category.name if category else category_id)
            )
        partners.append(choice)
    return RequestOptions(purposes=purposes, partners=partners)


#: The only form fields a page takes more than once: the information request's categories
#: (checkboxes ``vraag``, one per partner and category).
MULTI_VALUED_FIELDS = frozenset({"vraag"})


def refuse_repeated_fields(names: list[str]) -> None:
    """A POSTed form names each single-valued field once; a 422 page otherwise (review7a F4).

    A form is read with ``form.get`` (Starlette's ``FormData`` and FastAPI's ``Form()``
    parameters take the last of two equal fields): ``vervuiling=nee&vervuiling=ja`` was taken
    as ja, while a proxy or log reading the first saw nee. Called on every POSTed page form,
    after its CSRF token checked (``gateway/web/pages.py`` ``_csrf_checked``), so each
    reader below can take the one value."""
    if len(names) == len(set(names)):
        return
    seen: set[str] = set()
    for name in names:
        if name in seen and name not in MULTI_VALUED_FIELDS:
            raise Unprocessable(f"Het formulierveld {name[:40]} staat er meer dan eens in.")
        seen.add(name)


def yes_or_no(form: Mapping[str, Any], name: str, ask: str) -> bool:
    """A required ja/nee choice of a form; anything else is a 422 page saying ``ask``."""
    choice = str(form.get(name) or "")
    if choice not in ("ja", "nee"):
        raise Unprocessable(ask)
    return choice == "ja"


def _flag(form: Mapping[str, Any], name: str) -> bool:
    return str(form.get(name) or "") in {"ja", "on", "true", "1"}


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


def _number(form: Mapping[str, Any], name: str) -> int | str | None:
    value = _text(form, name)
    if value is None:
        return None
    # A non-number is passed on as text so validation reports it instead of guessing.
    return int(value) if value.isdigit() else value


def transition_facts(form: Mapping[str, Any], requires: list[str]) -> dict[str, Any]:
    """The facts a transition requires, as the cases API's TransitionRequest (camelCase)."""
    facts: dict[str, Any] = {}
    for fact in requires:
        if fact == "reason":
            facts["reason"] = _text(form, "reden")
        elif fact == "oggz-check":
            facts["oggzCheck"] = {
                "targetGroup": _flag(form, "oggz_doelgroep"),
                "referred": _flag(form, "oggz_verwezen"),
            }
        elif fact == "both-sides-heard":
            facts["bothSidesHeard"] = _flag(form, "hoor_wederhoor")
        elif fact == "mediation-screening":
            facts["mediationScreening"] = {
                "crime": _flag(form, "criminaliteit"),
                "seriousPsychosocial": _flag(form, "psychosociaal"),
                "multiProblem": _flag(form, "multiprobleem"),
            }
        elif fact == "breach-established":
            facts["breachEstablished"] = _flag(form, "overtreding")
        elif fact == "amount-eur":
            facts["amountEur"] = _number(form, "bedrag")
        elif fact == "days":
            facts["days"] = _number(form, "dagen")
        elif fact == "adult":
            facts["adult"] = _flag(form, "meerderjarig")
        elif fact == "ground":
            facts["ground"] = _text(form, "grond")
        elif fact == "measure":
            facts["measure"] = _text(form, "maatregel")
        elif fact == "result":
            facts["result"] = {
                "neighboursJudgement": _text(form, "oordeel_buren"),
                "partnersJudgement": _text(form, "oordeel_partners"),
                "aftercare": _text(form, "nazorg"),
            }
    return facts
