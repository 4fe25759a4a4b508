"""The SQL bound of the erasure warnings (retention.service.last_warned_due_on) against
warning_starts day by day: a verdict's warning has started exactly when its erasure day is
on or before the bound, so the bound drops no warning and lets through none too many."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.retention.rules import load_rules, warning_starts
from gateway.retention.service import last_warned_due_on


def test_the_bound_is_the_last_erasure_day_already_warned_of() -> None:
    rules = load_rules()
    with_rule = [c for c in sorted(rules.policies) if rules.policies[c].open_cases is not None]
    assert with_rule  # the shipped rules warn in at least one covenant
    for covenant_id in with_rule:
        for today in (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2028, 2, 29)):
            last = last_warned_due_on(rules, covenant_id, today)
            assert last is not None
            for offset in range(-40, 500):
                day = today + timedelta(days=offset)
                starts = warning_starts(rules, covenant_id, day)
                assert starts is not None
                assert (starts <= today) == (day <= last), (covenant_id, today, day)


def test_no_bound_without_an_open_cases_rule() -> None:
    rules = load_rules()
    assert last_warned_due_on(rules, "no-such-covenant", date(2026, 1, 1)) is None
