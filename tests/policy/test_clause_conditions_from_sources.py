"""Conditions and purposes of the sources that the clauses lacked (review5b, P3), on every
engine (regorus RVM and interpreter, regopy, OPA's Go evaluator).

* U-5.4-volksgezondheid: "De afdeling Volksgezondheid ondersteunt de casemanagers **als
  vervuiling van de woning onderdeel is van de overlast**" (seed 000, U §5.4). No fact of the
  case said so and the clause had no condition for it: the municipality's hygiene advice
  (``special: health``) was disclosed to the case manager in every case in the clause's
  phases, an unrecorded fact counting as "yes". Now the case lead records it
  (``dwellingPollution``, POST /v1/cases/{id}/criteria) and the clause has the condition
  ``dwelling-pollution``: only a recorded ``true`` holds (tests/cases for the API).

* R-A-brandweer-bevindingen named the GGD's zorgmedewerker as a recipient for the purpose
  ``enforcement`` too. The GGD does not enforce: "GGD komt niet verder (is vrijwillig) dan
  inzet Bouw- en woningtoezicht" (seed 003 l.1138-1139, Bijlage F); enforcement is the
  municipality's ("Bestuursdwang via Bouw- en Woningtoezicht", Bijlage F) and the mayor's
  (Bijlage E). The GGD "schakel[t] brandweer in" (Bijlage A) for hoarding, which the purpose
  ``integrated-approach`` covers. Now R-A-brandweer-bevindingen serves the integrated
  approach and R-F-brandweer-handhaving serves enforcement, for the case manager alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.policy.schemas import CategoryDecision
from tests.policy.conftest import case_decision


def _hygiene_advice(engine: Any, pollution: object) -> CategoryDecision:
    extra = {} if pollution == "missing" else {"dwellingPollution": pollution}
    return case_decision(
        engine,
        ("u-centraal", "casemanager"),
        "municipality-hygiene-advice",
        covenant="utrecht-extreme-woonoverlast",
        purpose="case-handling",
        phase="execution",
        team=["u-centraal", "gemeente-utrecht"],
        lead="u-centraal",
        dwelling={"ownership": "owner-occupied"},
        extra_case=extra,
    )


@pytest.mark.parametrize("pollution", [None, False, "missing"])
def test_no_hygiene_advice_unless_the_lead_recorded_pollution(
    any_engine: Any, pollution: object
) -> None:
    """Disclosed without any pollution on record before the fix (3201cbe)."""
    seen = _hygiene_advice(any_engine, pollution)
    assert (seen.outcome, seen.clauses) == ("redact", []), seen
    assert seen.reasons == ["dwelling-pollution-not-established"]


def test_control_hygiene_advice_when_the_lead_recorded_pollution(any_engine: Any) -> None:
    seen = _hygiene_advice(any_engine, True)
    assert (seen.outcome, seen.clauses) == ("disclose", ["U-5.4-volksgezondheid"])


FIRE_TEAM = ["gemeente-rijswijk", "ggd-haaglanden", "brandweer-haaglanden"]


def _fire_findings(engine: Any, requester: tuple[str, str], purpose: str) -> CategoryDecision:
    return case_decision(
        engine,
        requester,
        "fire-safety-findings",
        purpose=purpose,
        phase="warning",
        team=FIRE_TEAM,
        dwelling={"ownership": "owner-occupied"},
    )


def test_the_ggd_is_refused_fire_findings_for_enforcement(any_engine: Any) -> None:
    """Disclosed to the GGD for the purpose enforcement before the fix (3201cbe)."""
    seen = _fire_findings(any_engine, ("ggd-haaglanden", "zorgmedewerker"), "enforcement")
    # Neither clause of the category grants it: the GGD is no recipient of the enforcement
    # clause, and enforcement is no purpose of the integrated approach's.
    assert (seen.outcome, seen.clauses) == ("redact", [])
    assert seen.reasons == ["role-not-recipient", "purpose-not-allowed"], seen.reasons


def test_control_the_ggd_receives_fire_findings_for_the_integrated_approach(
    any_engine: Any,
) -> None:
    seen = _fire_findings(any_engine, ("ggd-haaglanden", "zorgmedewerker"), "integrated-approach")
    assert (seen.outcome, seen.clauses) == ("disclose", ["R-A-brandweer-bevindingen"])


def test_control_the_case_manager_receives_fire_findings_for_enforcement(any_engine: Any) -> None:
    seen = _fire_findings(any_engine, ("gemeente-rijswijk", "casemanager"), "enforcement")
    assert (seen.outcome, seen.clauses) == ("disclose", ["R-F-brandweer-handhaving"])
