"""The per-plan answer check (review7a, F1) refuses no real answer: every plan key
(role|purpose|phase) of both covenants, every partner holding the role, the requester as the
case lead or as the dwelling's landlord, every condition holding, all categories, on every
engine. No decision may be an engine failure (a false 503), and the disclosures are many
(the check is not passed by refusing everything). After the review's sweep
(tests/probes/test_probe_review7a_no_false_503.py on branch review7a)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from gateway.policy.compiler import DATA_ROOT
from gateway.policy.engine import ENGINE_FAILURES
from gateway.policy.schemas import PolicyInput
from tests.policy.conftest import BUNDLE, COVENANTS, ENGINE_CLASSES, loaded_engine
from tests.policy.test_decisions import NOW


def _case(covenant_id: str, phase: str, partner: str, corporation: str | None, lead: bool) -> Any:
    covenant = COVENANTS[covenant_id]
    police = [p.id for p in covenant.partners if p.kind == "police"]
    team = {partner, *police} | ({corporation} if corporation else set())
    events = [e.id for e in getattr(covenant, "events", [])]
    return {
        "id": "c1",
        "covenant": covenant_id,
        "phase": phase,
        "team": sorted(team),
        "lead": partner if lead else None,
        "dwelling": (
            {"ownership": "corporation", "corporation": corporation}
            if corporation
            else {"ownership": "owner-occupied"}
        ),
        "policeInvestigation": False,
        "dwellingPollution": True,
        "events": [{"kind": e, "partner": corporation} for e in events] if corporation else [],
    }


def _requests() -> Iterator[PolicyInput]:
    for covenant_id, covenant in COVENANTS.items():
        corporations = [p.id for p in covenant.partners if p.kind == "housing-corporation"]
        for key in BUNDLE.data[DATA_ROOT]["covenants"][covenant_id]["plans"]:
            role, purpose, phase = key.split("|")
            for partner in (p for p in covenant.partners if role in p.roles):
                for lead in (True, False):
                    landlord = not lead and partner.id in corporations
                    corporation = partner.id if landlord else next(iter(corporations), None)
                    consents = [
                        {
                            "kind": "corporation-permission",
                            "case": "c1",
                            "partner": corporation,
                            "grantedAt": NOW - timedelta(days=1),
                        }
                    ]
                    yield PolicyInput.model_validate(
                        {
                            "requester": {"partner": partner.id, "role": role, "user": "u"},
                            "case": _case(covenant_id, phase, partner.id, corporation, lead),
                            "categories": sorted(c.id for c in covenant.categories),
                            "purpose": purpose,
                            "consents": consents if corporation else [],
                            "now": NOW,
                        }
                    )


@pytest.mark.parametrize("engine_name", sorted(ENGINE_CLASSES))
def test_no_real_answer_is_taken_for_an_inconsistent_one(engine_name: str) -> None:
    engine = loaded_engine(engine_name)
    requests = failures = disclosed = 0
    for request in _requests():
        requests += 1
        decision = engine.decide(request)
        reasons = {r for v in decision.categories.values() for r in v.reasons}
        failures += bool(reasons & ENGINE_FAILURES)
        disclosed += len(decision.disclosed())
    assert requests > 500
    assert failures == 0
    assert disclosed > 1000
