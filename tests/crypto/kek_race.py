"""Workers for the first-KEK race tests (review9c F4): each runs in its own process (spawn),
as the workers and replicas of a first start do, and all start creating at one barrier."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

PROCESSES = 4


def race(target: Callable[..., None], *args: Any) -> list[Any]:
    """Run ``target(*args, barrier, results)`` in PROCESSES processes; their results."""
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(PROCESSES)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=target, args=(*args, barrier, results)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    found = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    return found


def create_local_key_file(path: str, barrier: Barrier, results: Any) -> None:
    from gateway.crypto.providers import LocalKeyFileProvider

    provider = LocalKeyFileProvider(Path(path))
    barrier.wait(120)
    created = provider.create_if_missing()
    keys, _ = provider._read_raw()
    results.put((created, keys[1].hex()))


def create_local_key_file_without_links(path: str, barrier: Barrier, results: Any) -> None:
    """As :func:`create_local_key_file`, on a filesystem without hard links (SMB, Azure
    Files): ``os.link`` fails with EPERM, as there (review10 F6)."""
    import errno
    import os

    def no_links(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    os.link = no_links
    create_local_key_file(path, barrier, results)


def create_first_kek_on_token(
    module: str, token: str, pin: str, label: str, url: str, barrier: Barrier, results: Any
) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from gateway.crypto.pkcs11_provider import Pkcs11KeyProvider
    from gateway.crypto.runtime import create_first_kek

    provider = Pkcs11KeyProvider(module=module, token_label=token, pin=pin, key_label=label)
    provider.versions()  # logged in, as a started worker is
    engine = create_engine(url)
    engine.connect().close()
    barrier.wait(120)
    try:
        results.put(create_first_kek(provider, sessionmaker(engine)))
    finally:
        provider.close()
        engine.dispose()
