"""Migration 0031 moves the address's blind index from the dwelling to the case and gives
every case a dwelling of its own (review2 finding 7), on a database that has cases: three
cases about one address shared one dwelling before it, one of them erased."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from gateway.context import GatewayContext
from gateway.db import alembic_config
from tests.retention.conftest import Seeder

BEFORE = "0030_refusal_reasons"


def test_upgrade_moves_the_index_to_the_kept_cases_and_splits_the_shared_dwelling(
    context: GatewayContext, seed: Seeder, database_url: str
) -> None:
    address = uuid.uuid4().hex
    first, erased, kept = (seed(address_index=address).case_id for _ in range(3))
    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, BEFORE)
    with context.engine.begin() as connection:
        # As before the migration: one dwelling per address, every case about it on it.
        shared = connection.execute(
            text("SELECT id FROM dwelling WHERE address_index = :a"), {"a": address}
        ).scalar_one()
        connection.execute(text("UPDATE case_file SET dwelling_id = :d"), {"d": shared})
        connection.execute(text("DELETE FROM dwelling WHERE id <> :d"), {"d": shared})
        connection.execute(
            text("UPDATE case_file SET erased_at = :at WHERE id = :id"),
            {"at": datetime(2025, 3, 10, tzinfo=UTC), "id": erased},
        )
        ownership = connection.execute(
            text("SELECT ownership FROM dwelling WHERE id = :d"), {"d": shared}
        ).scalar_one()
    context.engine.dispose()

    command.upgrade(config, "head")

    assert "address_index" not in {
        c["name"] for c in inspect(context.engine).get_columns("dwelling")
    }
    with context.engine.connect() as connection:
        rows = {
            case_id: (index, dwelling, owned)
            for case_id, index, dwelling, owned in connection.execute(
                text(
                    "SELECT f.id, f.address_index, f.dwelling_id, d.ownership"
                    " FROM case_file f JOIN dwelling d ON d.id = f.dwelling_id"
                )
            )
        }
        dwellings = connection.execute(text("SELECT count(*) FROM dwelling")).scalar_one()
    assert {case_id: index for case_id, (index, _, _) in rows.items()} == {
        first: address,
        erased: None,
        kept: address,
    }
    assert len({dwelling for _, dwelling, _ in rows.values()}) == 3
    assert {owned for _, _, owned in rows.values()} == {ownership}
    assert dwellings == 3
