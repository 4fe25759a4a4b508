"""The compiled lookup tables agree with the tables they shortcut: a plan's ``unplanned``
static reasons are what authz.rego's lookup in ``staticReasons`` gives without a plan."""

from __future__ import annotations

import pytest

from gateway.policy.compiler import compile_covenant
from gateway.policy.covenant import load_covenants

COVENANTS = load_covenants()


@pytest.mark.parametrize("covenant_id", sorted(COVENANTS))
def test_plan_static_reasons_match_the_per_kind_lookup(covenant_id: str) -> None:
    compiled = compile_covenant(COVENANTS[covenant_id])
    categories = set(compiled["staticReasons"])
    checked = 0
    for key, plan in compiled["plans"].items():
        role, purpose, phase = key.split("|")
        # Every category of the covenant is either planned or unplanned, never both.
        assert set(plan["unplanned"]) == categories - set(plan["categories"])
        for category, static in plan["unplanned"].items():
            why = compiled["staticReasons"][category]
            lookup = [
                reason
                for reason in (
                    why["role"].get(role, ""),
                    why["purpose"].get(purpose, ""),
                    why["phase"].get(phase, ""),
                )
                if reason != ""
            ]
            assert static == lookup, (key, category)
            checked += 1
    # The control: the comparison ran, over different combinations of static reasons.
    assert checked > 0
    combinations = {tuple(s) for p in compiled["plans"].values() for s in p["unplanned"].values()}
    assert len(combinations) > 1
