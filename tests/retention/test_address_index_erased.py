"""An erased case is not found by its address again (review2 finding 7).

The sweep clears the blind indexes of an erased dossier, which "would otherwise still link the
erased case to the resident" (gateway/retention/targets.py). The address's index used to live
on the dwelling (``dwelling.address_index``, one row per address, shared by every case about
it), which the sweep never touched: after the erasure the address still joined the erased
case's history (transitions, measures, dates, reference). Now the index is the case's own
(``case_file.address_index``) and every case has its own dwelling.

Controls: the person's index and the register's resident key go as before; a kept case at the
same address keeps its index, and a new report about the address still joins it
(tests/cases/test_erased_case_writes.py)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import String, func, select

import gateway.models  # noqa: F401 - registers every table
from gateway.cases.models import CaseFile, CasePerson
from gateway.context import GatewayContext
from gateway.db import Base
from gateway.retention.models import RetentionCase
from tests.retention.conftest import Seeder

DUE = date(2025, 3, 10)
ERASED_FACTS = [("mediation-ended", date(2024, 3, 10), "solved")]
#: Solved a year later: not due on DUE.
KEPT_FACTS = [("mediation-ended", date(2024, 9, 1), "solved")]


def _holding(context: GatewayContext, value: str) -> dict[str, int]:
    """``table.column`` -> rows holding ``value``, over every text column of the schema."""
    found: dict[str, int] = {}
    with context.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.c:
                if not isinstance(column.type, String):
                    continue
                rows = connection.execute(
                    select(func.count()).select_from(table).where(column == value)
                ).scalar_one()
                if rows:
                    found[f"{table.name}.{column.name}"] = int(rows)
    return found


def _cases_at(context: GatewayContext, address_index: str) -> set[str]:
    """The cases the address's index leads to: its own, and any sharing their dwelling."""
    with context.session_factory() as session:
        at_address = select(CaseFile.id, CaseFile.dwelling_id).where(
            CaseFile.address_index == address_index
        )
        own = {case_id for case_id, _ in session.execute(at_address)}
        dwellings = {dwelling for _, dwelling in session.execute(at_address)}
        sharing = session.scalars(select(CaseFile.id).where(CaseFile.dwelling_id.in_(dwellings)))
        return own | set(sharing)


def test_the_address_index_leads_nowhere_after_the_erasure(
    context: GatewayContext, seed: Seeder
) -> None:
    address = uuid.uuid4().hex
    erased = seed(facts=ERASED_FACTS, resident="e" * 64, address_index=address)
    # Positive control: before the sweep the address finds the case.
    assert _cases_at(context, address) == {erased.case_id}
    assert _holding(context, address) == {"case_file.address_index": 1}

    report = context.require_retention().sweep(as_of=DUE)

    assert [item.case_id for item in report.items] == [erased.case_id]
    assert _cases_at(context, address) == set()
    assert _holding(context, address) == {}, "the address's blind index outlives the erasure"


def test_a_kept_case_at_the_same_address_keeps_its_index_and_leads_only_to_itself(
    context: GatewayContext, seed: Seeder
) -> None:
    address = uuid.uuid4().hex
    erased = seed(facts=ERASED_FACTS, resident="e" * 64, address_index=address)
    kept = seed(facts=KEPT_FACTS, resident="k" * 64, address_index=address)
    assert _cases_at(context, address) == {erased.case_id, kept.case_id}

    context.require_retention().sweep(as_of=DUE)

    assert _cases_at(context, address) == {kept.case_id}
    assert _holding(context, address) == {"case_file.address_index": 1}


def test_the_persons_index_and_the_resident_key_are_cleared_as_before(
    context: GatewayContext, seed: Seeder
) -> None:
    erased = seed(facts=ERASED_FACTS, resident="f" * 64)
    context.require_retention().sweep(as_of=DUE)
    with context.session_factory() as session:
        indexes = session.scalars(
            select(CasePerson.identifier_index).where(CasePerson.case_id == erased.case_id)
        ).all()
        register = session.get_one(RetentionCase, erased.case_id)
        assert session.get_one(CaseFile, erased.case_id).erased_at is not None
    assert indexes == [None]
    assert register.resident_key is None
