"""Utrecht's aftercare plan goes to those U §5.1 names, not to everyone who reads the plan of
approach (review6b, P2).

U §5.1: "De casemanager is ook verantwoordelijk voor de eindevaluatie en het opstellen van
een nazorgplan wanneer dit laatste nodig is. Indien het huurders van een woningcorporatie
betreft, gebeurt dit in afstemming met de woonconsulent van de corporatie en de hulpverlener
van de cliënt of de betrokken buurtteammedewerker." Aftercare is "uitgebreide hulpverlening
op meerdere leefgebieden in het kader van nazorg" (U §4, action 5): care. Before the fix one
clause (U-5.1-plan-van-aanpak, category "Plan van aanpak, evaluaties en nazorgplan") gave it
in aftercare to the wijkagent, the gebiedsmanager and the woonconsulent of any corporation in
the team, also for an owner-occupied dwelling. Now the aftercare plan is its own category
(``aftercare-plan``, ``special: health``) and clause (U-5.1-nazorgplan): the dwelling's
landlord's woonconsulent, the woonbegeleider and the buurtteam worker, for aftercare, while
it is drawn up (final evaluation) and carried out (aftercare). The plan of approach keeps its
readers in the phases before. On every engine (regorus RVM and interpreter, regopy, OPA's
Go evaluator).
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.policy.schemas import CategoryDecision, PolicyInput
from tests.policy.conftest import COVENANTS

COVENANT = "utrecht-extreme-woonoverlast"
AFTERCARE_PLAN = "aftercare-plan"
PLAN = "plan-of-approach"
TEAM = [
    "u-centraal",
    "mitros",
    "portaal",
    "politie-midden-nederland",
    "gemeente-utrecht",
    "lister",
    "buurtteam-sociaal",
]
MITROS_DWELLING = {"ownership": "corporation", "corporation": "mitros"}
OWNER_OCCUPIED = {"ownership": "owner-occupied"}
PERMISSION = {
    "kind": "corporation-permission",
    "case": "c1",
    "partner": "mitros",
    "categories": [],
    "grantedAt": "2026-01-01T00:00:00Z",
}
LANDLORD = ("mitros", "woonconsulent")
OTHER_CORPORATION = ("portaal", "woonconsulent")
WIJKAGENT = ("politie-midden-nederland", "wijkagent")
GEBIEDSMANAGER = ("gemeente-utrecht", "gebiedsmanager")
BUURTTEAM = ("buurtteam-sociaal", "buurtteam-medewerker")
WOONBEGELEIDER = ("lister", "woonbegeleider")
#: The phases it is drawn up and carried out in.
AFTERCARE_PHASES = ["final-evaluation", "aftercare"]


def _decide(
    engine: Any,
    requester: tuple[str, str],
    category: str = AFTERCARE_PLAN,
    *,
    phase: str = "aftercare",
    purpose: str = "aftercare",
    dwelling: dict[str, str] = MITROS_DWELLING,
) -> CategoryDecision:
    """A case led by U Centraal with everyone in the team; for a corporation dwelling its
    corporation's permission (U §5.1) is on file."""
    partner, role = requester
    request = PolicyInput.model_validate(
        {
            "requester": {"partner": partner, "role": role, "user": "p"},
            "case": {
                "id": "c1",
                "covenant": COVENANT,
                "phase": phase,
                "team": TEAM,
                "lead": "u-centraal",
                "dwelling": dwelling,
                "policeInvestigation": False,
                "events": [],
            },
            "categories": [category],
            "purpose": purpose,
            "consents": [PERMISSION] if dwelling.get("ownership") == "corporation" else [],
            "now": "2026-03-01T12:00:00Z",
        }
    )
    return engine.decide(request).categories[category]  # type: ignore[no-any-return]


@pytest.mark.parametrize("phase", AFTERCARE_PHASES)
@pytest.mark.parametrize("requester", [WIJKAGENT, GEBIEDSMANAGER], ids=["wijkagent", "gebied"])
def test_the_police_and_the_gebiedsmanager_do_not_receive_the_aftercare_plan(
    any_engine: Any, requester: tuple[str, str], phase: str
) -> None:
    seen = _decide(any_engine, requester, phase=phase)
    assert (seen.outcome, seen.reasons) == ("redact", ["role-not-recipient"])
    # Nor through the plan of approach in aftercare, which it no longer holds.
    plan = _decide(any_engine, requester, PLAN, phase="aftercare")
    assert plan.outcome == "redact", plan.clauses


@pytest.mark.parametrize("phase", AFTERCARE_PHASES)
def test_only_the_landlords_woonconsulent_receives_it(any_engine: Any, phase: str) -> None:
    other = _decide(any_engine, OTHER_CORPORATION, phase=phase)
    assert (other.outcome, other.reasons) == ("redact", ["not-dwelling-landlord"])
    for corporation in (LANDLORD, OTHER_CORPORATION):
        owner = _decide(any_engine, corporation, phase=phase, dwelling=OWNER_OCCUPIED)
        assert (owner.outcome, owner.reasons) == ("redact", ["not-dwelling-landlord"])
    # The positive control: the corporation that lets the dwelling.
    landlord = _decide(any_engine, LANDLORD, phase=phase)
    assert (landlord.outcome, landlord.clauses) == ("disclose", ["U-5.1-nazorgplan"])


@pytest.mark.parametrize("phase", AFTERCARE_PHASES)
@pytest.mark.parametrize("dwelling", [MITROS_DWELLING, OWNER_OCCUPIED], ids=["rented", "owned"])
@pytest.mark.parametrize("requester", [BUURTTEAM, WOONBEGELEIDER], ids=["buurtteam", "lister"])
def test_the_care_workers_receive_it(
    any_engine: Any, requester: tuple[str, str], dwelling: dict[str, str], phase: str
) -> None:
    seen = _decide(any_engine, requester, phase=phase, dwelling=dwelling)
    assert (seen.outcome, seen.clauses) == ("disclose", ["U-5.1-nazorgplan"])


def test_for_aftercare_only(any_engine: Any) -> None:
    for purpose in ("case-handling", "eviction-procedure", "safety"):
        seen = _decide(any_engine, BUURTTEAM, purpose=purpose)
        assert seen.outcome == "redact", (purpose, seen.clauses)
        assert "purpose-not-allowed" in seen.reasons, (purpose, seen.reasons)
    for phase in ("plan-of-approach", "execution"):
        seen = _decide(any_engine, BUURTTEAM, phase=phase)
        assert (seen.outcome, seen.reasons) == ("redact", ["phase-not-allowed"]), phase


@pytest.mark.parametrize("phase", ["plan-of-approach", "execution", "final-evaluation"])
def test_the_plan_of_approach_keeps_its_readers_before_aftercare(
    any_engine: Any, phase: str
) -> None:
    """The positive control of the split: every reader of the plan of approach, another
    corporation in the team for an owner-occupied dwelling included (review4, finding 3),
    still receives it while the plan is carried out."""
    for who in (WIJKAGENT, GEBIEDSMANAGER, BUURTTEAM, WOONBEGELEIDER, LANDLORD, OTHER_CORPORATION):
        for dwelling in (MITROS_DWELLING, OWNER_OCCUPIED):
            seen = _decide(
                any_engine, who, PLAN, phase=phase, purpose="case-handling", dwelling=dwelling
            )
            assert (seen.outcome, seen.clauses) == ("disclose", ["U-5.1-plan-van-aanpak"]), who


def test_the_aftercare_plan_is_health_data_of_its_own() -> None:
    covenant = COVENANTS[COVENANT]
    category = covenant.category(AFTERCARE_PLAN)
    assert category is not None
    assert (category.special, category.owner) == ("health", "casemanagement")
    plan = covenant.category(PLAN)
    assert plan is not None
    assert "nazorg" not in plan.name.lower()
    giving = {c.id for c in covenant.clauses if AFTERCARE_PLAN in c.categories}
    assert giving == {"U-5.1-nazorgplan"}
