"""The full indexes of ``case_file``: only those a read needs (migration 0034).

The retention sweep's overwrite of an erased case's row sets ``erased_at`` and clears
``address_index``, both indexed (partial-index predicates, the intake's address index), so it
is no HOT update: every full index of the table gets a new entry per erased case
(docs/performance.md, the retention sweep's fifth and sixth rounds). A new full index is a
cost for every erasure and every other write of a case row; it belongs here only with the
read it serves. The migrated schema equals the models on both databases
(tests/standards/test_migrations.py), so this checks the models and, through the migrations,
that 0034's downgrade brings the five back and its upgrade drops them again.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

import gateway.models  # noqa: F401  (registers every table)
from gateway.db import Base, alembic_config, make_engine

#: The full indexes of case_file, each with what it serves (gateway/cases/models.py).
FULL = {
    "ix_case_file_dwelling_id",  # the dwelling's key (foreign key)
    "ix_case_file_opened_district",  # the steering report's openings per district
    "ix_case_file_state_district",  # the closure checks; a state or district of a covenant
    "ix_case_file_closed_cover",  # the steering report's closed cases, index-only
    "ix_case_file_lead_opened",  # GET /v1/cases: the cases a partner leads, in page order
}
DROPPED = {
    "ix_case_file_covenant_id",
    "ix_case_file_lead_partner_id",
    "ix_case_file_state",
    "ix_case_file_district",
    "ix_case_file_id_covenant",
}


def _partial(index: object) -> bool:
    options = getattr(index, "dialect_options", {})
    return any(options[d].get("where") is not None for d in ("postgresql", "sqlite"))


def test_case_file_has_no_full_index_a_read_does_not_need() -> None:
    table = Base.metadata.tables["case_file"]
    full = {index.name for index in table.indexes if not _partial(index)}
    assert full == FULL, (
        "a full index of case_file costs an entry at every erasure (no HOT update): "
        f"added {sorted(full - FULL)}, removed {sorted(FULL - full)}; name the read it serves"
    )
    # The primary key and the reference's uniqueness stay, as constraints.
    assert [c.name for c in table.primary_key.columns] == ["id"]
    assert any(
        {c.name for c in u.columns} == {"reference"}
        for u in table.constraints
        if u.__class__.__name__ == "UniqueConstraint"
    )


def test_migration_0034_drops_the_five_and_its_downgrade_restores_them(
    database_url: str,
) -> None:
    def names() -> set[str]:
        engine = make_engine(database_url)
        try:
            return {i["name"] for i in inspect(engine).get_indexes("case_file")}
        finally:
            engine.dispose()

    config = alembic_config(database_url)
    assert not names() & DROPPED
    assert names() >= FULL
    command.downgrade(config, "0033_case_report_person")
    assert names() >= DROPPED
    command.upgrade(config, "heads")
    assert not names() & DROPPED
    assert names() >= FULL
