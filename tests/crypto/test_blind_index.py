"""Blind indexes: normalised identifiers, BSN 11-check, and lookups without decryption."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.context import GatewayContext
from gateway.crypto import (
    CryptoServices,
    InvalidIdentifier,
    holds_bsn,
    is_valid_bsn,
    normalise_address,
    normalise_bsn,
    normalise_name,
    normalise_person,
)
from gateway.db import transaction
from tests.crypto.conftest import People, person
from tests.dutch_midnight import AFTER_DUTCH_MIDNIGHT


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "999990019"])
def test_valid_bsns_pass_the_11_check(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@pytest.mark.parametrize(
    "bsn", ["111222334", "123456789", "000000000", "12345678a", "1234567820", "", "١١١٢٢٢٣٣٣"]
)
def test_invalid_bsns_fail_the_11_check(bsn: str) -> None:
    assert not is_valid_bsn(bsn)


@pytest.mark.parametrize("written", ["111222333", "111 222 333", "111.222.333", "111-222-333"])
def test_bsn_spacing_and_separators_are_ignored(written: str) -> None:
    assert normalise_bsn(written) == "111222333"


def test_eight_digit_bsn_gets_its_leading_zero() -> None:
    assert normalise_bsn("12345672") == normalise_bsn("012345672") == "012345672"


@pytest.mark.parametrize(
    "text",
    [
        "111222333",  # a BSN
        "f11122237fffffffffffffffffffffff",  # 011122237 without its leading zero (review10 F4)
        "abc11122237",  # eight digits at the end
        "11122237",  # eight digits alone, as normalise_bsn takes them
        "9111222333",  # nine digits inside a longer run
        "0000000111222333",  # a span id's worth of digits
    ],
)
def test_a_bsn_in_a_run_of_digits_is_found(text: str) -> None:
    assert holds_bsn(text)


@pytest.mark.parametrize(
    "text",
    [
        "4bf92f3577b34da6a3ce929d0e0e4736",  # a W3C example trace id
        "00f067aa0ba902b7",  # its span id
        "f11122238fffffffffffffffffffffff",  # eight digits that fail the 11-check padded
        "a1112223b",  # seven digits
        "511122237",  # eight digits of a BSN inside a nine-digit run that is none
        "",
    ],
)
def test_digits_that_hold_no_bsn_are_not_taken_for_one(text: str) -> None:
    assert not holds_bsn(text)


def test_an_eight_digit_run_is_a_bsn_exactly_when_normalise_bsn_takes_it() -> None:
    """One definition of a BSN: holds_bsn reads eight digits as normalise_bsn does."""
    draw = random.Random(10)
    for _ in range(2000):
        digits = f"{draw.randrange(10**8):08d}"
        try:
            normalise_bsn(digits)
            accepted = True
        except InvalidIdentifier:
            accepted = False
        assert holds_bsn(f"x{digits}x") is accepted, digits


def test_rejected_bsn_error_does_not_echo_the_value() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_bsn("111222334")
    assert "111222334" not in caught.value.detail
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("postcode", "number", "addition"),
    [
        ("1234AB", 12, "a"),
        ("1234 ab", "12", "A"),
        (" 1234ab ", "12a", None),
        ("1234AB", "12-A", None),
        ("1234AB", "12 a", None),
        ("1234Ab", 12, " a "),
    ],
)
def test_addresses_written_differently_normalise_alike(
    postcode: str, number: int | str, addition: str | None
) -> None:
    assert normalise_address(postcode, number, addition) == "1234AB|12|A"


def test_house_number_without_addition_differs_from_one_with() -> None:
    assert normalise_address("1234AB", 12) != normalise_address("1234AB", 12, "A")


@pytest.mark.parametrize(
    ("postcode", "number", "addition"),
    [
        ("0234AB", 12, None),
        ("1234SS", 12, None),
        ("12345", 12, None),
        ("1234AB", 0, None),
        ("1234AB", "twelve", None),
        ("1234AB", "12a", "b"),
        ("1234AB", 12, "toolongaddition"),
    ],
)
def test_malformed_addresses_are_rejected(
    postcode: str, number: int | str, addition: str | None
) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_address(postcode, number, addition)


def test_names_ignore_case_accents_punctuation_and_spacing() -> None:
    assert normalise_name("  Öykü  de Vries-Jansen ") == "oyku de vries jansen"
    assert normalise_name("OYKU DE VRIES JANSEN") == "oyku de vries jansen"


def test_person_index_needs_a_real_past_date(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session:
        with pytest.raises(InvalidIdentifier):
            crypto.blind_index.person(
                session=session,
                name="Jan",
                date_of_birth=datetime(1980, 1, 1),  # type: ignore[arg-type]
            )
        with pytest.raises(InvalidIdentifier):
            crypto.blind_index.person(session=session, name="Jan", date_of_birth=date(2999, 1, 1))


@pytest.mark.parametrize(
    ("now", "today"),
    AFTER_DUTCH_MIDNIGHT,
)
def test_a_person_born_today_in_the_netherlands_is_not_refused_after_midnight(
    monkeypatch: pytest.MonkeyPatch, now: datetime, today: date
) -> None:
    """Between midnight in the Netherlands and midnight UTC the server's date is yesterday's:
    a date of birth of today was refused as lying in the future. The Dutch date decides; the
    day after it is still refused."""
    monkeypatch.setattr("gateway.db.utcnow", lambda: now)
    assert normalise_person("Jan", today) == f"jan|{today.isoformat()}"
    with pytest.raises(InvalidIdentifier):
        normalise_person("Jan", today + timedelta(days=1))


def test_same_identifier_gives_same_index_and_kinds_never_collide(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session:
        index = crypto.blind_index
        assert index.bsn(session=session, bsn="111 222 333") == index.bsn(
            session=session, bsn="111222333"
        )
        assert index.address(
            session=session, postcode="1234 ab", house_number="12a"
        ) == index.address(session=session, postcode="1234AB", house_number=12, addition="A")
        assert index.person(
            session=session, name="Jan de Vries", date_of_birth=date(1980, 5, 1)
        ) == index.person(session=session, name="JAN  DE VRIES", date_of_birth=date(1980, 5, 1))
        value = index.bsn(session=session, bsn="111222333")
        assert len(value) == 64
        assert "111222333" not in value
        assert value != index.bsn(session=session, bsn="123456782")


def test_blind_index_key_is_stable_across_restarts(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    from gateway.crypto.runtime import build_crypto_services

    with transaction(context.session_factory) as session:
        before = crypto.blind_index.bsn(session=session, bsn="111222333")
    fresh = build_crypto_services(context.settings)
    with transaction(context.session_factory) as session:
        assert fresh.blind_index.bsn(session=session, bsn="111222333") == before


def test_known_person_is_found_by_bsn_without_decrypting(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, bsn="111222333", name="A")
        people.add(session=session, person_id=2, case_id=11, bsn="123456782", name="B")
    with transaction(context.session_factory) as session:
        wanted = crypto.blind_index.bsn(session=session, bsn="111.222.333")
        found = session.execute(select(person.c.id).where(person.c.bsn_index == wanted)).all()
    assert [row.id for row in found] == [1]
