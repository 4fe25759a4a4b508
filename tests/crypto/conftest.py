"""Crypto fixtures: the gateway's crypto services and a stand-in domain table with
encrypted fields, created outside the gateway's metadata so Alembic never sees it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from gateway.context import GatewayContext
from gateway.crypto import CryptoServices, Erased, case_scope
from gateway.db import transaction

ENCRYPTED_FIELDS = ("name", "bsn", "address", "description")

test_metadata = MetaData()
person = Table(
    "crypto_test_person",
    test_metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False),
    *(Column(f, LargeBinary, nullable=True) for f in ENCRYPTED_FIELDS),
    Column("bsn_index", String(64), index=True),
)


@pytest.fixture
def crypto(context: GatewayContext) -> Iterator[CryptoServices]:
    """The running gateway's key services (the shared ``context`` fixture builds them as
    ``build_context`` does); their provider is closed after the test (PKCS#11 sessions)."""
    services = context.require_keys()
    yield services
    services.close()


@dataclass
class People:
    """Writes and reads the stand-in table through the FieldCipher, like domain code."""

    context: GatewayContext
    crypto: CryptoServices

    def add(self, *, session: Session, person_id: int, case_id: int, **values: str) -> None:
        row: dict[str, object] = {"id": person_id, "case_id": case_id}
        for field, plaintext in values.items():
            row[field] = self.crypto.fields.encrypt(
                session=session,
                scope=case_scope(case_id),
                table="crypto_test_person",
                record_id=person_id,
                field=field,
                plaintext=plaintext,
            )
        if "bsn" in values:
            row["bsn_index"] = self.crypto.blind_index.bsn(session=session, bsn=values["bsn"])
        session.execute(insert(person).values(**row))

    def read(self, *, session: Session, person_id: int, field: str) -> str | Erased:
        row = session.execute(select(person).where(person.c.id == person_id)).one()
        return self.crypto.fields.decrypt(
            session=session,
            scope=case_scope(row.case_id),
            table="crypto_test_person",
            record_id=person_id,
            field=field,
            ciphertext=row._mapping[field],
        )


@pytest.fixture
def people(context: GatewayContext, crypto: CryptoServices) -> Iterator[People]:
    test_metadata.create_all(context.engine)
    yield People(context, crypto)
    test_metadata.drop_all(context.engine)


@pytest.fixture
def session(context: GatewayContext) -> Iterator[Session]:
    """One committed unit of work, like a request's."""
    with transaction(context.session_factory) as s:
        yield s
