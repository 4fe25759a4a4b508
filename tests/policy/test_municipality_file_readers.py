"""Rijswijk's municipality case file (its case data and the mayor's measures, Bijlage E) goes
to a corporation's woonconsulent only when its corporation lets the causer's dwelling, except
in the case meeting of fase 2b, where every corporation in the team shares it for the joint
strategy.

R Bijlage A, Woningcorporaties: the corporation "Onderneemt actie wanneer klager en
overlastgever bij dezelfde woningcorporatie huren of wanneer overlastgever huurder is van de
woningcorporatie" and "Voert juridische procedures indien huurder zich niet aan de afspraken
houdt": enforcement, eviction and aftercare are its own tenant's. R Bijlage D fase 2b: "verplichten
de convenantpartners zich kennis en informatie (voor zover dat mag) uit te wisselen [...].
Tijdens het casusoverleg wordt op basis van de informatie een gezamenlijke strategie
vastgesteld." Before the fix every corporation in the team got it in every phase and for
every purpose, also for an owner-occupied dwelling (review4, finding 3). Decided on every
engine (regorus RVM and interpreter, regopy, OPA's Go evaluator).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.policy.schemas import CategoryDecision
from tests.policy.conftest import COVENANTS, case_decision

#: Rijswijk Wonen lets the causer's dwelling; Vidomes is in the team as the complainant's
#: landlord (or as the partner that filed the report).
TEAM = ["gemeente-rijswijk", "rijswijk-wonen", "vidomes", "politie-den-haag"]
LANDLORD = {"ownership": "corporation", "corporation": "rijswijk-wonen"}
OWNER_OCCUPIED = {"ownership": "owner-occupied"}
CATEGORY = "municipality-case-file"
RIJSWIJK_WONEN = ("rijswijk-wonen", "woonconsulent")
VIDOMES = ("vidomes", "woonconsulent")

#: ``(phase, purpose)`` outside the case meeting of fase 2b: the landlord's alone.
LANDLORDS_OWN = [
    ("weighing", "integrated-approach"),
    ("warning", "enforcement"),
    ("corporation-measures", "enforcement"),
    ("temporary-eviction", "eviction-procedure"),
    ("permanent-eviction", "eviction-procedure"),
    ("aftercare-evaluation", "aftercare"),
]
FASE_2B = ("integrated-approach", "integrated-approach")


def _ask(
    engine: Any,
    requester: tuple[str, str],
    *,
    phase: str,
    purpose: str,
    team: list[str] = TEAM,
    dwelling: dict[str, str] = LANDLORD,
) -> CategoryDecision:
    return case_decision(
        engine, requester, CATEGORY, phase=phase, purpose=purpose, team=team, dwelling=dwelling
    )


@pytest.mark.parametrize(("phase", "purpose"), LANDLORDS_OWN)
def test_the_causers_landlord_receives_the_municipality_file(
    any_engine: Any, phase: str, purpose: str
) -> None:
    seen = _ask(any_engine, RIJSWIJK_WONEN, phase=phase, purpose=purpose)
    assert (seen.outcome, seen.clauses) == ("disclose", ["R-A-gemeente-casus"])


@pytest.mark.parametrize(("phase", "purpose"), LANDLORDS_OWN)
def test_a_team_corporation_that_does_not_let_the_dwelling_is_refused(
    any_engine: Any, phase: str, purpose: str
) -> None:
    seen = _ask(any_engine, VIDOMES, phase=phase, purpose=purpose)
    assert seen.outcome == "redact", (seen.outcome, seen.clauses)
    assert "not-dwelling-landlord" in seen.reasons, seen.reasons


@pytest.mark.parametrize(("phase", "purpose"), LANDLORDS_OWN)
def test_no_corporation_receives_it_for_an_owner_occupied_dwelling(
    any_engine: Any, phase: str, purpose: str
) -> None:
    for who in (RIJSWIJK_WONEN, VIDOMES):
        seen = _ask(any_engine, who, phase=phase, purpose=purpose, dwelling=OWNER_OCCUPIED)
        assert seen.outcome == "redact", (who, seen.outcome, seen.clauses)
        assert "not-dwelling-landlord" in seen.reasons, (who, seen.reasons)


def test_the_case_meeting_of_fase_2b_shares_it_with_every_corporation_in_the_team(
    any_engine: Any,
) -> None:
    phase, purpose = FASE_2B
    landlord = _ask(any_engine, RIJSWIJK_WONEN, phase=phase, purpose=purpose)
    assert (landlord.outcome, landlord.clauses) == (
        "disclose",
        ["R-A-gemeente-casus", "R-D-2b-gemeente-casus"],
    )
    for dwelling in (LANDLORD, OWNER_OCCUPIED):
        other = _ask(any_engine, VIDOMES, phase=phase, purpose=purpose, dwelling=dwelling)
        assert (other.outcome, other.clauses) == ("disclose", ["R-D-2b-gemeente-casus"])


def test_fase_2b_shares_it_for_the_joint_strategy_only(any_engine: Any) -> None:
    # The case meeting's clause is for the integrated approach: another purpose in that
    # phase is still the landlord's alone.
    phase = FASE_2B[0]
    for purpose in ("enforcement", "eviction-procedure", "aftercare"):
        assert COVENANTS["rijswijk-woonoverlast"].purpose(purpose) is not None
        seen = _ask(any_engine, VIDOMES, phase=phase, purpose=purpose)
        assert seen.outcome == "redact", (purpose, seen.outcome, seen.clauses)


def test_the_other_recipients_are_not_bound_to_the_dwelling(any_engine: Any) -> None:
    # Only the corporations' part changed: the police, the wijkteam and the GGD receive it
    # for an owner-occupied dwelling as before.
    team = [*TEAM, "sociaal-wijkteam-rijswijk", "ggd-haaglanden"]
    for who in (
        ("politie-den-haag", "wijkagent"),
        ("sociaal-wijkteam-rijswijk", "buurtteam-medewerker"),
        ("ggd-haaglanden", "zorgmedewerker"),
    ):
        seen = _ask(
            any_engine,
            who,
            phase="warning",
            purpose="enforcement",
            team=team,
            dwelling=OWNER_OCCUPIED,
        )
        assert (seen.outcome, seen.clauses) == ("disclose", ["R-A-gemeente-casus"]), who


def test_never_outside_the_case_team(any_engine: Any) -> None:
    outside = [p for p in TEAM if p != "rijswijk-wonen"]
    for phase, purpose in [*LANDLORDS_OWN, FASE_2B]:
        seen = _ask(any_engine, RIJSWIJK_WONEN, phase=phase, purpose=purpose, team=outside)
        assert seen.outcome == "redact", (phase, seen.clauses)
        assert "not-in-case-team" in seen.reasons, (phase, seen.reasons)


def _docs_table_row(first_cell: str) -> set[str]:
    """The clause ids in the second column of docs/policy.md's woonconsulent table row."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
    rows = [line for line in docs.read_text().splitlines() if line.startswith(first_cell)]
    assert len(rows) == 1, first_cell
    return set(re.findall(r"`([RU]-[A-Za-z0-9.-]+)`", rows[0].split("|")[2]))


def test_the_docs_say_which_woonconsulent_each_clause_serves() -> None:
    bound: set[str] = set()
    unbound: set[str] = set()
    for covenant in COVENANTS.values():
        for clause in covenant.clauses:
            for recipient in clause.recipients:
                if recipient.role != "woonconsulent":
                    continue
                if recipient.relation == "dwelling-landlord":
                    bound.add(clause.id)
                elif recipient.relation is None:
                    unbound.add(clause.id)
    assert _docs_table_row("| the dwelling's landlord only") == bound
    assert _docs_table_row("| every corporation in the case team") == unbound
