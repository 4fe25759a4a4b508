"""The Rijswijk rules (R §3.4) at their bounds, and the Utrecht default."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import pytest

from gateway.retention.rules import (
    CaseFacts,
    RetentionPolicyInvalid,
    days_in_month,
    evaluate,
    load_rules,
)

R = "rijswijk-woonoverlast"
U = "utrecht-extreme-woonoverlast"
RULES = load_rules()
ENDED = date(2024, 3, 10)


def light(**kwargs: object) -> CaseFacts:
    return CaseFacts(mediation_ended=ENDED, mediation_outcome="solved", **kwargs)  # type: ignore[arg-type]


def is_due(facts: CaseFacts, on: date, covenant: str = R) -> bool:
    verdict = evaluate(RULES, covenant, facts)
    return verdict.due_on is not None and verdict.due_on <= on


def test_light_case_is_kept_one_year_after_mediation_ended() -> None:
    verdict = evaluate(RULES, R, light())
    assert verdict.rule_id == "R-3.4-licht-bemiddeld"
    assert verdict.due_on == date(2025, 3, 10)
    assert "mediation-ended on 2024-03-10 + 1 year" in verdict.reason


def test_light_case_is_kept_the_day_before_and_erased_the_day_after_its_due_date() -> None:
    assert not is_due(light(), date(2025, 3, 9))
    assert is_due(light(), date(2025, 3, 10))
    assert is_due(light(), date(2025, 3, 11))


def test_new_report_about_the_same_resident_within_the_year_restarts_the_clock() -> None:
    facts = light(resident_reports=[date(2024, 11, 1)])
    verdict = evaluate(RULES, R, facts)
    assert verdict.due_on == date(2025, 11, 1)
    assert "restarted by a new report on 2024-11-01" in verdict.reason
    assert not is_due(facts, date(2025, 10, 31))
    assert is_due(facts, date(2025, 11, 2))


def test_each_report_inside_the_running_term_restarts_it_again() -> None:
    facts = light(resident_reports=[date(2024, 11, 1), date(2025, 10, 1)])
    assert evaluate(RULES, R, facts).due_on == date(2026, 10, 1)


def test_report_after_the_year_ended_does_not_bring_the_dossier_back() -> None:
    facts = light(resident_reports=[date(2025, 3, 10), date(2025, 6, 1)])
    assert evaluate(RULES, R, facts).due_on == date(2025, 3, 10)


def test_report_before_the_mediation_ended_does_not_restart() -> None:
    assert evaluate(RULES, R, light(resident_reports=[date(2024, 1, 5)])).due_on == date(
        2025, 3, 10
    )


def test_an_unsanctioned_case_is_kept_while_the_resident_lives_in_the_dwelling() -> None:
    verdict = evaluate(RULES, R, CaseFacts(complexity="complex"))
    assert verdict.rule_id == "R-3.4-zonder-sancties"
    assert verdict.due_on is None
    assert "resident-moved-out / case-closed" in verdict.reason


def test_an_unsanctioned_case_is_erased_when_the_resident_moved_out() -> None:
    facts = CaseFacts(complexity="complex", moved_out=date(2025, 6, 1), closed=date(2025, 5, 1))
    assert evaluate(RULES, R, facts).due_on == date(2025, 6, 1)
    assert not is_due(facts, date(2025, 5, 31))
    assert is_due(facts, date(2025, 6, 2))


def test_an_open_case_is_not_due_on_the_move_out() -> None:
    """review8a F5: the move-out term of an open case waits for its closure; the open case
    stays under the open-case rule (erased mid-workflow before)."""
    facts = CaseFacts(
        complexity="simple", moved_out=date(2025, 6, 1), last_activity=date(2025, 5, 20)
    )
    verdict = evaluate(RULES, R, facts)
    assert (verdict.rule_id, verdict.due_on) == ("R-open-zonder-activiteit", date(2026, 5, 20))
    assert "2025-06-01" not in verdict.reason
    # Sanctioned and open: the two-year cap still runs; the move waits.
    sanctioned = CaseFacts(
        last_sanction=date(2024, 5, 1), moved_out=date(2024, 8, 1), last_activity=date(2025, 1, 2)
    )
    assert evaluate(RULES, R, sanctioned).due_on == date(2026, 1, 2)


def test_a_move_before_the_closure_counts_from_the_closure() -> None:
    facts = CaseFacts(complexity="simple", moved_out=date(2025, 3, 1), closed=date(2025, 6, 1))
    verdict = evaluate(RULES, R, facts)
    assert (verdict.rule_id, verdict.source_date, verdict.due_on) == (
        "R-3.4-zonder-sancties",
        date(2025, 6, 1),
        date(2025, 6, 1),
    )
    assert "resident-moved-out on 2025-03-01, counted from the closure on 2025-06-01" in (
        verdict.reason
    )


def test_heavier_case_is_kept_at_most_two_years_after_the_last_sanction() -> None:
    facts = CaseFacts(last_sanction=date(2024, 2, 29))
    verdict = evaluate(RULES, R, facts)
    assert verdict.due_on == date(2026, 2, 28)  # leap day + 2 years clamps to 28 Feb
    assert not is_due(facts, date(2026, 2, 27))
    assert is_due(facts, date(2026, 3, 1))


def test_two_year_cap_applies_while_the_resident_still_lives_there() -> None:
    facts = CaseFacts(last_sanction=date(2024, 5, 1), moved_out=date(2027, 1, 1))
    assert evaluate(RULES, R, facts).due_on == date(2026, 5, 1)


def test_moving_out_before_the_cap_erases_earlier() -> None:
    facts = CaseFacts(
        last_sanction=date(2024, 5, 1), moved_out=date(2024, 8, 1), closed=date(2024, 7, 1)
    )
    assert evaluate(RULES, R, facts).due_on == date(2024, 8, 1)


def test_sanctioned_case_falls_under_the_heavier_rule_even_after_successful_mediation() -> None:
    verdict = evaluate(RULES, R, light(last_sanction=date(2024, 6, 1)))
    assert verdict.rule_id == "R-3.4-zwaar"
    assert verdict.due_on == date(2026, 6, 1)


def test_failed_mediation_without_sanctions_ends_the_default_period_after_closure() -> None:
    facts = CaseFacts(mediation_ended=ENDED, mediation_outcome="failed", closed=date(2024, 5, 2))
    verdict = evaluate(RULES, R, facts)
    assert verdict.rule_id == "R-3.4-zonder-sancties"
    assert verdict.due_on == date(2025, 5, 2)


def test_a_light_case_closed_without_mediation_or_sanctions_has_an_end() -> None:
    verdict = evaluate(RULES, R, CaseFacts(complexity="simple", closed=date(2024, 4, 30)))
    assert verdict.rule_id == "R-3.4-zonder-sancties"
    assert verdict.due_on == date(2025, 4, 30)
    assert "case-closed on 2024-04-30 + 12 months" in verdict.reason
    # Configurable: KETENPOORT_RETENTION_UNSANCTIONED_PERIOD_MONTHS.
    rules = load_rules(unsanctioned_months=6)
    facts = CaseFacts(complexity="simple", closed=date(2024, 4, 30))
    assert evaluate(rules, R, facts).due_on == date(2024, 10, 30)
    assert rules.revision != RULES.revision


@pytest.mark.parametrize("covenant", [R, U])
def test_an_open_case_without_activity_is_due_after_the_inactivity_period(covenant: str) -> None:
    facts = CaseFacts(last_activity=date(2024, 1, 15))
    verdict = evaluate(RULES, covenant, facts)
    assert verdict.rule_id in {"R-open-zonder-activiteit", "U-open-zonder-activiteit"}
    assert verdict.due_on == date(2025, 1, 15)
    assert "no activity since 2024-01-15 + 12 months" in verdict.reason
    # Positive control: the same case once closed follows its covenant's rule instead.
    closed = evaluate(RULES, covenant, CaseFacts(last_activity=date(2024, 1, 15), closed=ENDED))
    assert closed.rule_id not in {"R-open-zonder-activiteit", "U-open-zonder-activiteit"}
    rules = load_rules(inactive_months=3)
    assert evaluate(rules, covenant, facts).due_on == date(2024, 4, 15)


def test_an_open_case_keeps_an_earlier_due_date_of_its_rule() -> None:
    # Mediation solved a year ago, never closed: the light rule's date comes first.
    facts = light(last_activity=date(2024, 9, 1))
    assert evaluate(RULES, R, facts).rule_id == "R-3.4-licht-bemiddeld"
    assert evaluate(RULES, R, facts).due_on == date(2025, 3, 10)


def test_the_restart_is_labelled_as_an_assumption() -> None:
    verdict = evaluate(RULES, R, light(resident_reports=[date(2024, 11, 1)]))
    assert "assumption: R §3.4 states a condition, not a restart" in verdict.reason
    assert "ASSUMPTION" in RULES.policies[R].rules[0].description


def test_utrecht_keeps_the_default_period_after_closure() -> None:
    verdict = evaluate(RULES, U, CaseFacts(closed=date(2024, 4, 30)))
    assert verdict.rule_id == "U-default-na-afsluiting"
    assert verdict.due_on == date(2026, 4, 30)
    assert evaluate(RULES, U, CaseFacts()).due_on is None


def test_utrecht_default_period_is_configurable() -> None:
    rules = load_rules(default_months=6)
    assert evaluate(rules, U, CaseFacts(closed=date(2024, 8, 31))).due_on == date(2025, 2, 28)
    assert rules.revision != RULES.revision


PACKAGED = Path(__file__).parents[2] / "policies"


def _folder(tmp_path: Path, name: str, retention: str) -> Path:
    """A covenant folder ``name`` with the packaged Rijswijk covenant and workflow files and
    the given retention rules (the layout of gateway/policy/layout.py)."""
    folder = tmp_path / name
    folder.mkdir()
    for file in ("covenant.yaml", "workflow.yaml"):
        (folder / file).write_text((PACKAGED / R / file).read_text())
    (folder / "retention.yaml").write_text(retention)
    return tmp_path


def test_broken_rules_file_fails_closed_naming_it(tmp_path: Path) -> None:
    _folder(tmp_path, R, "covenant: rijswijk-woonoverlast\nrules: []\n")
    with pytest.raises(RetentionPolicyInvalid, match=f"{R}/retention.yaml"):
        load_rules(tmp_path)


def test_rules_must_name_the_covenant_of_their_folder(tmp_path: Path) -> None:
    _folder(tmp_path, "other", (PACKAGED / R / "retention.yaml").read_text())
    with pytest.raises(RetentionPolicyInvalid, match="other/retention.yaml") as refused:
        load_rules(tmp_path)
    assert f"covenant: '{R}' is not the name of its folder 'other'" in refused.value.detail


def test_positive_control_the_same_rules_in_their_own_folder_load(tmp_path: Path) -> None:
    _folder(tmp_path, R, (PACKAGED / R / "retention.yaml").read_text())
    loaded = load_rules(tmp_path)
    assert set(loaded.policies) == {R}
    assert loaded.policies[R] == RULES.policies[R]


def test_days_in_month_is_the_calendars_for_every_month_of_every_year() -> None:
    assert [days_in_month(y, m) for y in range(1, 10000) for m in range(1, 13)] == [
        calendar.monthrange(y, m)[1] for y in range(1, 10000) for m in range(1, 13)
    ]


def _generated_facts(count: int) -> list[CaseFacts]:
    """Cases of every shape the rules tell apart, with dates around month ends and leap
    days (where the days in a month decide), some due by AS_OF and some not."""
    import random

    rng = random.Random(20261204)
    start = date(2019, 1, 1).toordinal()
    month_ends = [
        date(year, month, day)
        for year in range(2019, 2027)
        for month in (1, 2, 3, 8, 12)
        for day in (28, 29, 30, 31)
        if day <= calendar.monthrange(year, month)[1]
    ]

    def day() -> date:
        if rng.random() < 0.4:
            return rng.choice(month_ends)
        return date.fromordinal(start + rng.randrange(8 * 365))

    def maybe() -> date | None:
        return day() if rng.random() < 0.5 else None

    cases = []
    for _ in range(count):
        mediation = maybe()
        cases.append(
            CaseFacts(
                mediation_ended=mediation,
                mediation_outcome=rng.choice(["solved", "failed"]) if mediation else None,
                last_sanction=maybe() if rng.random() < 0.4 else None,
                moved_out=maybe() if rng.random() < 0.4 else None,
                closed=maybe(),
                complexity=rng.choice([None, "simple", "complex"]),
                resident_reports=sorted({day() for _ in range(rng.randrange(3))}),
                last_activity=maybe(),
                recorded={"court-ruling": day()} if rng.random() < 0.2 else {},
            )
        )
    return cases


def test_verdicts_with_days_in_month_are_those_with_the_calendars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The oracle: the verdicts as computed with calendar.monthrange before the table.
    as_of = date(2025, 6, 30)
    cases = _generated_facts(6000)
    new = [evaluate(RULES, covenant, facts) for facts in cases for covenant in (R, U)]
    monkeypatch.setattr(
        "gateway.retention.rules.days_in_month", lambda y, m: calendar.monthrange(y, m)[1]
    )
    old = [evaluate(RULES, covenant, facts) for facts in cases for covenant in (R, U)]
    assert new == old
    due = sum(1 for v in new if v.due_on is not None and v.due_on <= as_of)
    kept = sum(1 for v in new if v.due_on is not None and v.due_on > as_of)
    # Both halves are well represented: cases that are due and cases that are not.
    assert due > len(new) // 5
    assert kept > len(new) // 5
