"""A writer process for the concurrency test: ``python -m tests.audit.concurrent_writer URL
KEY_DIR THREADS APPENDS [ROLLBACK_EVERY]`` appends from THREADS threads, one entry per
transaction; with ROLLBACK_EVERY, every so many transactions roll back after the append."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from gateway.audit import AuditLog
from gateway.db import make_engine, make_sessionmaker, transaction
from tests.audit.builders import disclosure


class _RolledBack(Exception):
    """Raised after an append to roll its transaction back."""


def main() -> None:
    url, key_dir, threads, appends = sys.argv[1], Path(sys.argv[2]), *map(int, sys.argv[3:5])
    rollback_every = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    log = AuditLog.from_key_dir(key_dir)
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        start.wait()
        try:
            for number in range(appends):
                try:
                    with transaction(factory) as session:
                        log.append(session=session, entry=disclosure(worker * 1000 + number))
                        if rollback_every and number % rollback_every == rollback_every - 1:
                            raise _RolledBack
                except _RolledBack:
                    pass
        except BaseException as exc:  # noqa: BLE001 - reported through the exit code
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    engine.dispose()
    if errors:
        print(repr(errors[0]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
