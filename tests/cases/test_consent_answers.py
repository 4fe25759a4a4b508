"""gateway.cases.consents: the latest answer of the entitled party, per consent kind and (for
the OM's consent) per category; a refusal or withdrawal is an answer too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.cases.consents import current_answers, granted_consents

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: str
    kind: str
    partner_id: str
    granted: bool
    recorded_at: datetime
    withdrawn_at: datetime | None = None


def _at(day: int) -> datetime:
    return T0 + timedelta(days=day)


def _standing(rows: list[tuple[Row, list[str]]]) -> list[tuple[str, list[str]]]:
    return [
        (g.consent.id, sorted(g.categories))
        for g in granted_consents(rows, dwelling_corporation="mitros")
    ]


def test_the_latest_of_grant_refusal_and_withdrawal_counts() -> None:
    grant = Row("a", "corporation-permission", "mitros", True, _at(1))
    refusal = Row("b", "corporation-permission", "mitros", False, _at(2))
    assert _standing([(grant, [])]) == [("a", [])]
    assert _standing([(grant, []), (refusal, [])]) == []
    regrant = Row("c", "corporation-permission", "mitros", True, _at(3))
    assert _standing([(grant, []), (refusal, []), (regrant, [])]) == [("c", [])]
    withdrawn = Row("a", "corporation-permission", "mitros", True, _at(1), withdrawn_at=_at(4))
    assert _standing([(withdrawn, []), (refusal, []), (regrant, [])]) == []


def test_a_no_at_the_same_instant_as_a_yes_wins() -> None:
    grant = Row("a", "corporation-permission", "mitros", True, _at(1))
    refusal = Row("b", "corporation-permission", "mitros", False, _at(1))
    assert _standing([(grant, []), (refusal, [])]) == []
    assert _standing([(grant, [])]) == [("a", [])]


def test_only_the_dwellings_corporation_answers_for_its_permission() -> None:
    other = Row("a", "corporation-permission", "portaal", True, _at(1))
    own = Row("b", "corporation-permission", "mitros", True, _at(1))
    assert _standing([(other, [])]) == []
    assert _standing([(other, []), (own, [])]) == [("b", [])]
    answers = current_answers([(other, [])], dwelling_corporation=None)
    assert answers == {}


def test_om_answers_count_per_category() -> None:
    both = Row("a", "om-consent", "politie", True, _at(1))
    refusal = Row("b", "om-consent", "politie", False, _at(2))
    rows = [(both, ["x", "y"]), (refusal, ["y"])]
    assert _standing(rows) == [("a", ["x"])]
    assert _standing([(both, ["x", "y"])]) == [("a", ["x", "y"])]


def test_two_parties_answers_do_not_touch_each_other() -> None:
    permission = Row("a", "corporation-permission", "mitros", True, _at(1))
    om = Row("b", "om-consent", "politie", True, _at(2), withdrawn_at=_at(3))
    assert _standing([(permission, []), (om, ["x"])]) == [("a", [])]
    om_standing = Row("b", "om-consent", "politie", True, _at(2))
    assert _standing([(permission, []), (om_standing, ["x"])]) == [("a", []), ("b", ["x"])]
