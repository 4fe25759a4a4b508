"""SQLite's defensive mode (SQLITE_DBCONFIG_DEFENSIVE) on every connection a process opens,
for the tests of what a migration does where a build or an application turns it on.

Python 3.12 sets it with ``sqlite3.Connection.setconfig``; on 3.11 it is set through ctypes
on the ``sqlite3 *`` handle of the connection (CPython's ``pysqlite_Connection`` keeps it
right after the object header), with ``sqlite3_db_config`` looked up through the ``_sqlite3``
extension, so the library that owns the handle is the one called. The mode is read back
after it is set: a layout this does not fit fails the test instead of passing it untested.
"""

from __future__ import annotations

import ctypes
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

#: sqlite3.h: ``#define SQLITE_DBCONFIG_DEFENSIVE 1010``.
SQLITE_DBCONFIG_DEFENSIVE = 1010


def _db_config(connection: sqlite3.Connection, on: int) -> int:
    """Set (1, 0) or read (-1) the mode of ``connection``; the mode it has after."""
    import _sqlite3

    library = ctypes.CDLL(_sqlite3.__file__)
    handle = ctypes.c_void_p.from_address(id(connection) + object.__basicsize__).value
    result = ctypes.c_int(-1)
    code = library.sqlite3_db_config(
        ctypes.c_void_p(handle),
        ctypes.c_int(SQLITE_DBCONFIG_DEFENSIVE),
        ctypes.c_int(on),
        ctypes.byref(result),
    )
    assert code == 0, f"sqlite3_db_config returned {code}"
    return result.value


def make_defensive(connection: sqlite3.Connection) -> None:
    """Defensive mode on for ``connection``, checked."""
    if sys.version_info >= (3, 12):
        connection.setconfig(SQLITE_DBCONFIG_DEFENSIVE, True)
        assert connection.getconfig(SQLITE_DBCONFIG_DEFENSIVE)
        return
    assert _db_config(connection, 1) == 1
    assert _db_config(connection, -1) == 1


def _on_connect(dbapi_connection: Any, _: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        make_defensive(dbapi_connection)


@contextmanager
def defensive_sqlite() -> Iterator[None]:
    """Every SQLite connection that an engine of this process opens meanwhile is in
    defensive mode (the migration's own engine included); connections opened before are
    not, and those opened meanwhile stay so: dispose of such engines."""
    event.listen(Engine, "connect", _on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", _on_connect)
