"""Rijswijk's mediation status (whether mediation runs, succeeded or got stuck) in fase 2a
goes to the causer's landlord and the municipality only; the other chain partners hear of it
after the escalation to the case meeting (fase 2b, integrated approach).

R Bijlage D fase 2a: "De sociaal beheerder van de betreffende woningcorporatie en/of de
gemeente gaat een gesprek aan met de klager en de overlastgever"; "Zaken die vastlopen worden
snel opgeschaald naar het casusoverleg en afgestemd met de ketenpartners". Before the fix
every corporation in the team got it in fase 2a (review3, finding 7). Decided on every
engine (regorus RVM and interpreter, regopy, OPA's Go evaluator).
"""

from __future__ import annotations

from typing import Any

from gateway.policy.schemas import CategoryDecision
from tests.policy.conftest import case_decision

#: Rijswijk Wonen lets the causer's dwelling; Vidomes is in the team as the complainant's
#: landlord (or as the partner that filed the report).
TEAM = ["gemeente-rijswijk", "rijswijk-wonen", "vidomes", "buurtbemiddeling-rijswijk"]
LANDLORD = {"ownership": "corporation", "corporation": "rijswijk-wonen"}


def _ask(
    engine: Any,
    requester: tuple[str, str],
    *,
    phase: str,
    purpose: str = "mediation",
    team: list[str] = TEAM,
    dwelling: dict[str, str] = LANDLORD,
    category: str = "mediation-status",
) -> CategoryDecision:
    return case_decision(
        engine, requester, category, phase=phase, purpose=purpose, team=team, dwelling=dwelling
    )


RIJSWIJK_WONEN = ("rijswijk-wonen", "woonconsulent")
VIDOMES = ("vidomes", "woonconsulent")
MUNICIPALITY = ("gemeente-rijswijk", "casemanager")


def test_mediation_status_in_fase_2a_goes_to_the_causers_landlord_and_the_municipality(
    any_engine: Any,
) -> None:
    for who in (RIJSWIJK_WONEN, MUNICIPALITY):
        seen = _ask(any_engine, who, phase="mediation")
        assert (seen.outcome, seen.clauses) == ("disclose", ["R-D-2a-bemiddeling-status"]), who


def test_mediation_status_in_fase_2a_is_withheld_from_a_team_corporation_not_the_landlord(
    any_engine: Any,
) -> None:
    # The reasons are the union over the category's clauses (docs/policy.md, "Decisions"):
    # fase 2b's clause adds that the phase is not its own.
    other = _ask(any_engine, VIDOMES, phase="mediation")
    assert (other.outcome, other.reasons) == (
        "redact",
        ["phase-not-allowed", "not-dwelling-landlord"],
    )
    # An owner-occupied dwelling has no landlord: no corporation gets it in fase 2a.
    owned = _ask(
        any_engine, RIJSWIJK_WONEN, phase="mediation", dwelling={"ownership": "owner-occupied"}
    )
    assert (owned.outcome, owned.reasons) == (
        "redact",
        ["phase-not-allowed", "not-dwelling-landlord"],
    )


def test_mediation_status_after_the_escalation_goes_to_the_corporations_in_the_team(
    any_engine: Any,
) -> None:
    """Fase 2b: "afgestemd met de ketenpartners" in the case meeting."""
    for purpose in ("mediation", "integrated-approach"):
        for who in (VIDOMES, RIJSWIJK_WONEN, MUNICIPALITY):
            seen = _ask(any_engine, who, phase="integrated-approach", purpose=purpose)
            assert (seen.outcome, seen.clauses) == ("disclose", ["R-A-bemiddeling-status"]), who


def test_mediation_status_never_goes_outside_the_case_team(any_engine: Any) -> None:
    outside = [p for p in TEAM if p != "vidomes"]
    for phase in ("mediation", "integrated-approach"):
        seen = _ask(any_engine, VIDOMES, phase=phase, team=outside)
        assert (seen.outcome, seen.reasons) == (
            "redact",
            ["phase-not-allowed", "not-in-case-team"],
        ), phase
