"""A periodic background job: one daemon thread that runs a task every ``interval``
seconds until stopped (the audit checkpoint signing and the scheduled retention sweep)."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

#: What a job works for (the running gateway): held weakly, handed to each run.
Owner = TypeVar("Owner")

#: Every job whose thread was started and may still run (tests check none outlives its test).
_STARTED: weakref.WeakSet[PeriodicJob[Any]] = weakref.WeakSet()


def running_jobs() -> list[PeriodicJob[Any]]:
    """The jobs whose threads are alive, in this process."""
    return [job for job in list(_STARTED) if job.running]


class PeriodicJob(Generic[Owner]):
    """Runs ``task(owner)`` every ``interval`` seconds in a daemon thread called ``name``
    until stopped; ``description`` names the job in the log.

    The thread holds only a weak reference to its owner (the running gateway), so a discarded
    gateway (tests, reloads) lets it end; :meth:`stop` ends it at once. The task gets the
    owner per run rather than closing over it, which would keep the gateway alive. A failed
    run is logged with its traceback only (never the data it worked on) and retried at the
    next tick.
    """

    def __init__(
        self,
        owner: Owner,
        *,
        interval: float,
        task: Callable[[Owner], object],
        name: str,
        description: str,
        log: logging.Logger,
        join_timeout: float = 10,
    ) -> None:
        self._owner = weakref.ref(owner)
        self._interval = interval
        self._task = task
        self._description = description
        self._log = log
        self._join_timeout = join_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def name(self) -> str:
        return self._thread.name

    def start(self) -> None:
        _STARTED.add(self)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._join_timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            owner = self._owner()
            if owner is None:
                return
            try:
                self._task(owner)
            except Exception:  # noqa: BLE001 - a failed run is retried at the next tick
                self._log.exception(
                    "%s failed; retrying in %.0fs", self._description, self._interval
                )
            finally:
                del owner
