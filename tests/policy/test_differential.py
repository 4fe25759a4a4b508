"""The differential check: regorus (RVM), regorus's interpreter and rego-cpp (regopy) must
return the same decision (outcomes, answers, clause ids, reasons, errors) for any request.

Inputs are generated over the covenants' own partners, roles, purposes, phases and
categories, with consents that are valid, expired, for another case or from the wrong
partner, a lead, case events and an investigation status that may be unknown, so every
condition and every reason is exercised. Derandomized: the same inputs
on every run, so a failure reproduces.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.policy.schemas import PolicyInput
from tests.policy.conftest import COVENANTS, loaded_engine

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ALL_PARTNERS = sorted({p.id for c in COVENANTS.values() for p in c.partners})


@st.composite
def consents(draw: st.DrawFn, covenant: Any, categories: list[str]) -> list[dict[str, Any]]:
    partners = [p.id for p in covenant.partners]
    result = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["om-consent", "corporation-permission"]))
        granted = NOW + timedelta(days=draw(st.integers(-20, 2)))
        expires = draw(st.one_of(st.none(), st.integers(-5, 30)))
        result.append(
            {
                "kind": kind,
                "case": draw(st.sampled_from(["case-1", "case-1", "case-2"])),
                "partner": draw(st.sampled_from(partners)),
                "categories": draw(st.lists(st.sampled_from(categories), max_size=3)),
                "grantedAt": granted,
                "expiresAt": None if expires is None else NOW + timedelta(days=expires),
            }
        )
    return result


@st.composite
def requests(draw: st.DrawFn) -> PolicyInput:
    covenant = COVENANTS[draw(st.sampled_from(sorted(COVENANTS)))]
    partners = [p for p in covenant.partners]
    partner = draw(st.sampled_from(partners))
    roles = sorted({r.id for r in covenant.roles})
    # Mostly a role the partner holds, sometimes any role, to reach the request errors.
    role = draw(st.one_of(st.sampled_from(partner.roles), st.sampled_from(roles)))
    categories = [c.id for c in covenant.categories]
    requested = draw(
        st.lists(st.sampled_from([*categories, "no-such-category"]), min_size=1, max_size=4)
    )
    corporations = [p.id for p in partners if p.kind == "housing-corporation"]
    ownership = draw(st.sampled_from(["corporation", "private-rental", "owner-occupied"]))
    dwelling: dict[str, Any] = {"ownership": ownership}
    if ownership == "corporation":
        dwelling["corporation"] = draw(st.sampled_from([*corporations, partner.id]))
    team = draw(st.lists(st.sampled_from([p.id for p in partners]), max_size=5, unique=True))
    if draw(st.booleans()):
        team = [*team, partner.id]
    event_kinds = [e.id for e in covenant.events]
    events = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "kind": st.sampled_from([*event_kinds, "no-such-event"]),
                    "partner": st.sampled_from([partner.id, *corporations]),
                }
            ),
            max_size=2,
        )
    )
    return PolicyInput.model_validate(
        {
            "requester": {
                "partner": draw(st.sampled_from([partner.id, partner.id, *ALL_PARTNERS[:1]])),
                "role": role,
                "user": "pseudo-1",
            },
            "case": {
                "id": "case-1",
                "covenant": draw(st.sampled_from([covenant.id, covenant.id, covenant.id, "x"])),
                "phase": draw(st.sampled_from([p.id for p in covenant.phases])),
                "team": team,
                "lead": draw(st.sampled_from([partner.id, *(p.id for p in partners), None])),
                "dwelling": dwelling,
                # None: nobody recorded whether an investigation runs.
                "policeInvestigation": draw(st.sampled_from([True, False, None])),
                "events": events,
            },
            "categories": requested,
            "purpose": draw(st.sampled_from([*(p.id for p in covenant.purposes), "gossip"])),
            "consents": draw(consents(covenant, categories)),
            "now": NOW,
        }
    )


def _comparable(decision: Any) -> Any:
    return (
        decision.allow,
        decision.clauses,
        decision.errors,
        decision.bundle_revision,
        {c: (d.outcome, d.answer, d.clauses, d.reasons) for c, d in decision.categories.items()},
    )


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(requests())
def test_engines_agree_on_every_decision(request: PolicyInput) -> None:
    reference = loaded_engine("regorus-interpreter").decide(request)
    assert not set(reference.errors) & {"engine-error", "undefined-result", "engine-timeout"}
    assert _comparable(loaded_engine("regorus").decide(request)) == _comparable(reference)
    assert _comparable(loaded_engine("regopy").decide(request)) == _comparable(reference)
    assert _comparable(loaded_engine("opa-go").decide(request)) == _comparable(reference)
