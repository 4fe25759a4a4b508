"""The periodic background job behind the audit checkpoints and the retention sweep."""

from __future__ import annotations

import gc
import logging
import threading
from typing import Any

import pytest

from gateway.core.jobs import PeriodicJob

log = logging.getLogger("tests.jobs")


class _Gateway:
    """Stands in for a GatewayContext: the job only holds a weak reference to it."""


def _job(gateway: Any, task: Any) -> PeriodicJob:
    return PeriodicJob(
        gateway, interval=0.01, task=task, name="test-job", description="test job", log=log
    )


def test_job_runs_its_task_until_stopped() -> None:
    gateway = _Gateway()
    ran = threading.Event()
    job = _job(gateway, lambda context: ran.set())
    job.start()
    assert ran.wait(5)
    job.stop()
    assert not job.running


def test_failed_run_is_logged_without_its_data_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = _Gateway()
    calls: list[int] = []
    again = threading.Event()

    def task(context: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        again.set()

    job = _job(gateway, task)
    with caplog.at_level(logging.ERROR, logger="tests.jobs"):
        job.start()
        assert again.wait(5)
        job.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "test job failed; retrying in 0s"


def test_job_ends_when_its_gateway_is_discarded() -> None:
    gateway = _Gateway()
    job = _job(gateway, lambda context: None)
    job.start()
    del gateway
    gc.collect()
    for _ in range(500):
        if not job.running:
            break
        threading.Event().wait(0.01)
    assert not job.running
