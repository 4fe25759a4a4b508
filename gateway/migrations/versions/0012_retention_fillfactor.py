"""Retention: room on the pages of the tables the sweep overwrites, so erasing is a HOT update.

The sweep overwrites a case's ciphertexts and shreds its data key in place. When the new
row version fits on the same page and no indexed column changes, PostgreSQL writes it as a
heap-only tuple (HOT): no new entry in any of the table's indexes. Full pages (the default
fillfactor of 100) made every erasure insert an entry into each of ``case_file``'s seven
indexes and both of ``crypto_data_key``'s. Measured on a 5000-case batch of 100k cases
(EXPLAIN ANALYZE, WAL records): ``case_file`` 45697 -> 5000, ``crypto_data_key`` 24967 ->
5000, ``case_report`` 20143 -> 5000, and the three statements' time 776 ms -> about 170 ms.

Half-empty pages for ``case_file`` and ``crypto_data_key`` let every row of a page take its
new version in the same transaction (cases opened together fall due together, so a batch
erases whole pages); ``case_report`` rows are larger and already fit with 30 % free. The
cost is disk space: those heaps take up to twice the pages. ``case_person`` is left alone:
erasing clears its indexed blind index, which is never a HOT update. Applies to pages
written from now on (existing rows move when next updated, or after ``VACUUM FULL``).
PostgreSQL only; SQLite has no fillfactor.

Revision ID: 0012_retention_fillfactor
Revises: 0011_retention_on_hold, 0002_crypto, 0004_cases
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_retention_fillfactor"
down_revision: str | Sequence[str] | None = ("0011_retention_on_hold", "0002_crypto", "0004_cases")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = {"case_file": 50, "crypto_data_key": 50, "case_report": 70}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, fillfactor in FILLFACTOR.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {fillfactor})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILLFACTOR:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
