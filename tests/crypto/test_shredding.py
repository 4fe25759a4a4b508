"""Crypto-shredding: a shredded scope reads as erased, with when and why; others are untouched."""

from __future__ import annotations

import pytest

from gateway.context import GatewayContext
from gateway.crypto import CryptoServices, Erased, InvalidKeyScope, case_scope, shred_scope
from gateway.crypto.runtime import build_crypto_services
from gateway.db import transaction
from tests.crypto.conftest import People

REASON = "retention R-3.4: one year after mediation ended"


def _two_cases(context: GatewayContext, people: People) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, name="Alice", address="Laan 1")
        people.add(session=session, person_id=2, case_id=10, name="Bob")
        people.add(session=session, person_id=3, case_id=11, name="Carol")


def test_shredded_case_reads_as_erased_and_other_cases_are_untouched(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    _two_cases(context, people)
    with transaction(context.session_factory) as session:
        erased = shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason=REASON)
    with transaction(context.session_factory) as session:
        for person_id, field in ((1, "name"), (1, "address"), (2, "name")):
            value = people.read(session=session, person_id=person_id, field=field)
            assert value == Erased(at=erased.at, reason=REASON)
        assert people.read(session=session, person_id=3, field="name") == "Carol"


def test_shredding_is_final_for_other_processes_after_their_cache_expires(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    _two_cases(context, people)
    no_cache = context.settings.model_copy(update={"dek_cache_seconds": 0})
    other_replica = build_crypto_services(no_cache)
    with transaction(context.session_factory) as session:
        shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason=REASON)
    reader = People(context, other_replica)
    with transaction(context.session_factory) as session:
        assert isinstance(reader.read(session=session, person_id=1, field="name"), Erased)
        assert reader.read(session=session, person_id=3, field="name") == "Carol"


def test_shredded_key_material_is_gone_from_the_database(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    from sqlalchemy import select

    from gateway.crypto.models import DataKey

    _two_cases(context, people)
    with transaction(context.session_factory) as session:
        shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason=REASON)
    with transaction(context.session_factory) as session:
        row = session.execute(select(DataKey).where(DataKey.scope == case_scope(10))).scalar_one()
        assert row.wrapped_key is None
        assert row.shred_reason == REASON


def test_shredding_twice_keeps_the_first_erasure(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    _two_cases(context, people)
    with transaction(context.session_factory) as session:
        first = shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason=REASON)
    with transaction(context.session_factory) as session:
        again = shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason="other")
    assert again == first


def test_nothing_new_can_be_stored_in_a_shredded_scope(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    _two_cases(context, people)
    with transaction(context.session_factory) as session:
        shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason=REASON)
    for fields in (crypto.fields, build_crypto_services(context.settings).fields):
        with transaction(context.session_factory) as session, pytest.raises(InvalidKeyScope):
            fields.encrypt(
                session=session,
                scope=case_scope(10),
                table="t",
                record_id=9,
                field="f",
                plaintext="late",
            )


def test_scope_without_data_can_be_shredded_and_stays_closed(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session:
        shred_scope(session=session, keys=crypto.keys, scope=case_scope(99), reason=REASON)
    with transaction(context.session_factory) as session, pytest.raises(InvalidKeyScope):
        crypto.fields.encrypt(
            session=session, scope=case_scope(99), table="t", record_id=1, field="f", plaintext="x"
        )


def test_shred_that_rolls_back_leaves_the_values_readable(
    context: GatewayContext, people: People, crypto: CryptoServices
) -> None:
    _two_cases(context, people)

    def shred_then_fail() -> None:
        with transaction(context.session_factory) as session:
            shred_scope(session=session, keys=crypto.keys, scope=case_scope(10), reason=REASON)
            raise RuntimeError("audit write failed")

    with pytest.raises(RuntimeError):
        shred_then_fail()
    with transaction(context.session_factory) as session:
        assert people.read(session=session, person_id=1, field="name") == "Alice"


def test_blind_index_key_cannot_be_shredded(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session, pytest.raises(InvalidKeyScope):
        shred_scope(session=session, keys=crypto.keys, scope="system:blind-index", reason=REASON)
