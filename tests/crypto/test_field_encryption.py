"""Field values round-trip, and fail closed when moved, altered or under an unknown key."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, select, update
from sqlalchemy.engine import make_url

import gateway.models  # noqa: F401 - every domain's tables, to find every encrypted column
from gateway.context import GatewayContext
from gateway.crypto import CryptoServices, Erased, UndecryptableValue, case_scope
from gateway.db import Base, transaction
from tests.crypto.conftest import ENCRYPTED_FIELDS, People, person

CANARY = "Canary-Kanarie-7f3a9c"


def test_stored_value_reads_back(context: GatewayContext, people: People) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, name="Jan de Vries")
    with transaction(context.session_factory) as session:
        assert people.read(session=session, person_id=1, field="name") == "Jan de Vries"


def test_value_written_and_read_in_one_transaction_reads_back(
    context: GatewayContext, people: People
) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, name="Ada", description="Noise")
        assert people.read(session=session, person_id=1, field="description") == "Noise"


def test_canary_never_appears_in_the_database_files(
    context: GatewayContext, people: People, database_url: str, tmp_path: Path
) -> None:
    with transaction(context.session_factory) as session:
        people.add(
            session=session,
            person_id=1,
            case_id=10,
            bsn="111222333",
            **{field: CANARY for field in ENCRYPTED_FIELDS if field != "bsn"},
        )
        people.add(session=session, person_id=2, case_id=11, name=CANARY, bsn="123456782")
    with transaction(context.session_factory) as session:
        assert people.read(session=session, person_id=2, field="name") == CANARY
    context.engine.dispose()
    dumped = _database_bytes(database_url, tmp_path)
    for needle in (CANARY, "111222333", "123456782"):
        assert needle.encode() not in dumped
        assert needle.encode().hex().encode() not in dumped  # bytea is dumped as hex
    assert b"crypto_test_person" in dumped  # the dump did contain the table


def test_every_declared_encrypted_column_stores_bytes() -> None:
    encrypted = [
        column
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.info.get("encrypted")
    ]
    assert all(isinstance(column.type, LargeBinary) for column in encrypted)


def test_ciphertexts_swapped_between_records_both_fail(
    context: GatewayContext, people: People
) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, name="Alice")
        people.add(session=session, person_id=2, case_id=10, name="Bob")
    _swap(context, (1, "name"), (2, "name"))
    with transaction(context.session_factory) as session:
        for person_id in (1, 2):
            with pytest.raises(UndecryptableValue):
                people.read(session=session, person_id=person_id, field="name")


def test_ciphertexts_swapped_between_fields_both_fail(
    context: GatewayContext, people: People
) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, name="Alice", address="Dorpsstraat 1")
    _swap(context, (1, "name"), (1, "address"))
    with transaction(context.session_factory) as session:
        for field in ("name", "address"):
            with pytest.raises(UndecryptableValue):
                people.read(session=session, person_id=1, field=field)


def test_ciphertext_moved_to_another_case_fails(context: GatewayContext, people: People) -> None:
    with transaction(context.session_factory) as session:
        people.add(session=session, person_id=1, case_id=10, name="Alice")
        people.add(session=session, person_id=2, case_id=11, name="Bob")
    _swap(context, (1, "name"), (2, "name"))
    with transaction(context.session_factory) as session:
        for person_id in (1, 2):
            with pytest.raises(UndecryptableValue):
                people.read(session=session, person_id=person_id, field="name")


@pytest.mark.parametrize("position", [0, 5, 12, 25, -1])
def test_tampered_ciphertext_fails_closed_and_the_log_holds_no_value(
    context: GatewayContext,
    people: People,
    crypto: CryptoServices,
    caplog: pytest.LogCaptureFixture,
    position: int,
) -> None:
    with transaction(context.session_factory) as session:
        sealed = crypto.fields.encrypt(
            session=session, scope="case:10", table="t", record_id=1, field="f", plaintext=CANARY
        )
    tampered = bytearray(sealed)
    tampered[position] ^= 0x01
    caplog.set_level(logging.DEBUG)
    with transaction(context.session_factory) as session, pytest.raises(UndecryptableValue) as err:
        crypto.fields.decrypt(
            session=session,
            scope="case:10",
            table="t",
            record_id=1,
            field="f",
            ciphertext=bytes(tampered),
        )
    assert err.value.status == 500
    assert CANARY not in caplog.text
    assert sealed.hex() not in caplog.text
    assert "rejected stored value" in caplog.text


def test_unknown_data_key_version_fails_closed(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session:
        sealed = crypto.fields.encrypt(
            session=session, scope="case:10", table="t", record_id=1, field="f", plaintext="x"
        )
    unknown = sealed[:1] + (10**6).to_bytes(8, "big") + sealed[9:]
    with transaction(context.session_factory) as session, pytest.raises(UndecryptableValue):
        crypto.fields.decrypt(
            session=session, scope="case:10", table="t", record_id=1, field="f", ciphertext=unknown
        )


def test_truncated_ciphertext_fails_closed(context: GatewayContext, crypto: CryptoServices) -> None:
    with transaction(context.session_factory) as session, pytest.raises(UndecryptableValue):
        crypto.fields.decrypt(
            session=session, scope="case:10", table="t", record_id=1, field="f", ciphertext=b"\x01"
        )


def test_same_value_encrypts_differently_each_time(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    with transaction(context.session_factory) as session:
        a, b = (
            crypto.fields.encrypt(
                session=session, scope="case:1", table="t", record_id=1, field="f", plaintext="x"
            )
            for _ in range(2)
        )
    assert a != b


def test_data_key_of_a_rolled_back_transaction_is_never_used_again(
    context: GatewayContext, crypto: CryptoServices
) -> None:

    def encrypt_then_fail() -> None:
        with transaction(context.session_factory) as session:
            crypto.fields.encrypt(
                session=session,
                scope=case_scope(5),
                table="t",
                record_id=1,
                field="f",
                plaintext="x",
            )
            raise RuntimeError("request failed")

    with pytest.raises(RuntimeError):
        encrypt_then_fail()
    with transaction(context.session_factory) as session:
        sealed = crypto.fields.encrypt(
            session=session, scope=case_scope(5), table="t", record_id=1, field="f", plaintext="y"
        )
    crypto.keys.clear()
    with transaction(context.session_factory) as session:
        assert (
            crypto.fields.decrypt(
                session=session,
                scope=case_scope(5),
                table="t",
                record_id=1,
                field="f",
                ciphertext=sealed,
            )
            == "y"
        )


def test_reserved_and_malformed_scopes_are_refused(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    from gateway.crypto import InvalidKeyScope

    with transaction(context.session_factory) as session:
        for scope in ("system:blind-index", "no-colon", "case:", "Case:1", "case:a b"):
            with pytest.raises(InvalidKeyScope):
                crypto.fields.encrypt(
                    session=session, scope=scope, table="t", record_id=1, field="f", plaintext="x"
                )


def _swap(context: GatewayContext, a: tuple[int, str], b: tuple[int, str]) -> None:
    with transaction(context.session_factory) as session:
        first = session.execute(select(person.c[a[1]]).where(person.c.id == a[0])).scalar_one()
        second = session.execute(select(person.c[b[1]]).where(person.c.id == b[0])).scalar_one()
        session.execute(update(person).where(person.c.id == a[0]).values({a[1]: second}))
        session.execute(update(person).where(person.c.id == b[0]).values({b[1]: first}))


def _database_bytes(database_url: str, tmp_path: Path) -> bytes:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = sorted(Path(url.database).parent.glob(Path(url.database).name + "*"))
        return b"".join(path.read_bytes() for path in files)
    pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        [pg_dump, "--no-owner", libpq_url], check=True, capture_output=True, timeout=60
    )
    return dump.stdout


@pytest.mark.parametrize(
    ("table", "record_id", "field"),
    [("t\x1fx", 1, "f"), ("t", "1\x1fx", "f"), ("t", 1, "f\x1fx")],
)
def test_names_holding_the_associated_data_separator_are_refused(
    context: GatewayContext, crypto: CryptoServices, table: str, record_id: int | str, field: str
) -> None:
    # Otherwise ("a\x1fb", "c") and ("a", "b\x1fc") would share associated data.
    from gateway.crypto import InvalidKeyScope

    with transaction(context.session_factory) as session:
        sealed = crypto.fields.encrypt(
            session=session, scope="case:3", table="t", record_id=1, field="f", plaintext="x"
        )
        with pytest.raises(InvalidKeyScope):
            crypto.fields.encrypt(
                session=session,
                scope="case:3",
                table=table,
                record_id=record_id,
                field=field,
                plaintext="x",
            )
        with pytest.raises(InvalidKeyScope):
            crypto.fields.decrypt(
                session=session,
                scope="case:3",
                table=table,
                record_id=record_id,
                field=field,
                ciphertext=sealed,
            )


def test_ciphertext_opens_with_the_documented_associated_data_only(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    # An auditor with the data key can check a value with field_aad; the hot path builds the
    # same bytes from the key's prebuilt parts.
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from gateway.crypto.fields import field_aad

    with transaction(context.session_factory) as session:
        sealed = crypto.fields.encrypt(
            session=session,
            scope="case:4",
            table="case_report",
            record_id="r-9",
            field="text",
            plaintext="geluidsoverlast",
        )
        dek_id = int.from_bytes(sealed[1:9], "big")
        handle = crypto.keys.for_decrypt(session, dek_id)
    assert not isinstance(handle, Erased)
    cipher = AESGCM(handle.key)
    nonce, body = sealed[9:21], sealed[21:]
    aad = field_aad("case:4", "case_report", "r-9", "text", dek_id)
    assert aad == f"kp.field.v1\x1fcase:4\x1fcase_report\x1fr-9\x1ftext\x1f{dek_id}".encode()
    assert cipher.decrypt(nonce, body, aad) == b"geluidsoverlast"
    with pytest.raises(InvalidTag):
        cipher.decrypt(nonce, body, field_aad("case:4", "case_report", "r-9", "text2", dek_id))
