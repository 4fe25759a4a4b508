"""Which causer is the resident of a case's restart (review8a, noticed): the sync read one
causer's blind index with ``LIMIT 1`` and no order, so a case with two causers got
whichever row the database's plan met first (on SQLite the first inserted; on PostgreSQL
any). Now the least blind index, the same on every database and in both syncs (the
PostgreSQL set-based one and the per-case one). That a report about the second causer
restarts nothing is a limit of one resident per case (docs/retention.md)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from gateway.cases.models import CasePerson
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.casefacts import sync_from_cases
from gateway.retention.models import RetentionCase, RetentionFact
from tests.retention.conftest import Seeder


@pytest.mark.parametrize("every_case", [True, False])
def test_the_resident_is_the_least_causer_index_whatever_the_insertion_order(
    context: GatewayContext, seed: Seeder, every_case: bool
) -> None:
    case_id = seed().case_id  # its one causer has no identifier
    with transaction(context.session_factory) as session:
        for index in ("res-z", "res-a"):  # the greater one first
            session.add(
                CasePerson(
                    id=str(uuid.uuid4()),
                    case_id=case_id,
                    role="causer",
                    identifier_index=index,
                    identifier_sealed=None,
                    name_sealed=None,
                )
            )
        # Not registered yet: the sync registers it with its resident.
        session.execute(delete(RetentionFact).where(RetentionFact.case_id == case_id))
        session.execute(delete(RetentionCase).where(RetentionCase.case_id == case_id))
    rules = context.require_retention().rules
    with transaction(context.session_factory) as session:
        sync_from_cases(session=session, rules=rules, case_ids=None if every_case else [case_id])
    with context.session_factory() as session:
        assert session.get_one(RetentionCase, case_id).resident_key == "res-a"
