"""The corporation adapter records the measures of its export as case events once: it reads
which it recorded from the case summary, which shows a partner the events it recorded even
where it is not a recipient of their category (review4, finding 5: the summary shows the
landlord's measures only to the category's recipients, the lead and the recorder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.corporation import CorporationAdapter
from tests.adapters.conftest import Auth, ClientFactory, open_utrecht_case
from tests.adapters.test_reference_adapters import Lines, runner_for, write_export

pytestmark = pytest.mark.anyio


async def test_the_adapter_records_a_measure_once_and_reads_its_own_record(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    export = write_export(
        tmp_path / "mitros.json",
        {
            "caseReference": case.reference,
            "caseEvents": [{"event": "eviction-procedure", "occurredOn": "2026-11-30"}],
        },
    )
    lines = Lines()
    async with sdk_client("mitros") as mitros:
        for _ in range(2):  # a second run, as after a restart, finds it on record
            await runner_for(CorporationAdapter(), mitros, export, lines).run_once()
        summary = await mitros.case(case.id)
    assert [(e.event, e.partner_id) for e in summary.events] == [("eviction-procedure", "mitros")]
    assert sum("recorded eviction-procedure" in line for line in lines.out) == 1
    # The police in the team are not shown it: not a recipient of U-6-corporatie.
    async with sdk_client("politie-midden-nederland") as police:
        assert (await police.case(case.id)).events == []
