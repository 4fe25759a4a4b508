"""The police export's investigation status: what the export does not say stays unknown.

U §5.3 lets the antecedents go while an investigation runs only with the OM's consent, and
DOMAIN.md ("unknown is not no"): until the police recorded it, the gateway treats it as if
an investigation runs. An export that leaves the fact out (no JSON key, no CSV column, an
empty CSV cell) must not be turned into "no investigation runs".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.exports import read_export
from adapters.police import PoliceAdapter, PoliceRecord
from tests.adapters.conftest import Auth, ClientFactory, open_utrecht_case
from tests.adapters.test_reference_adapters import (
    ANTECEDENTS,
    POLICE,
    Lines,
    ask,
    police_record,
    read,
    runner_for,
    values,
    write_export,
)

pytestmark = pytest.mark.anyio

CSV_HEADER = "caseReference,reportCount,physicalViolence,seriousIntimidation,nuisanceAntecedents"


def silent_export(tmp_path: Path, reference: str, form: str) -> Path:
    """A police export that does not say whether an investigation runs, in ``form``."""
    if form == "json-without-key":
        return write_export(tmp_path / "police.json", police_record(reference))
    path = tmp_path / "police.csv"
    if form == "csv-without-column":
        path.write_text(f"{CSV_HEADER}\n{reference},1,nee,nee,ja\n", encoding="utf-8")
    else:  # csv-empty-cell
        path.write_text(
            f"{CSV_HEADER},investigationRunning\n{reference},1,nee,nee,ja,\n", encoding="utf-8"
        )
    return path


async def antecedents_after_two_cycles(
    sdk_client: ClientFactory, case_id: str, export: Path
) -> tuple[bool | None, str, list[str]]:
    """Sync the export, ask for the antecedents, answer: the status the gateway then holds
    and what the case manager is given."""
    async with sdk_client(POLICE) as police:
        await runner_for(PoliceAdapter(), police, export, Lines()).run_once()
        status = (await police.case(case_id)).investigation_running
    request_id = await ask(sdk_client, case_id, [ANTECEDENTS])
    async with sdk_client(POLICE) as police:
        await runner_for(PoliceAdapter(), police, export, Lines()).run_once()
    answer = values(await read(sdk_client, request_id))[ANTECEDENTS]
    return status, answer.outcome, answer.reasons


@pytest.mark.parametrize("form", ["json-without-key", "csv-without-column", "csv-empty-cell"])
async def test_an_export_silent_on_the_investigation_leaves_it_unknown_and_withholds_antecedents(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path, form: str
) -> None:
    case = open_utrecht_case(client, auth)
    export = silent_export(tmp_path, case.reference, form)
    status, outcome, reasons = await antecedents_after_two_cycles(sdk_client, case.id, export)
    assert (status, outcome) == (None, "redacted")
    assert reasons == ["investigation-status-unknown", "om-consent-missing"]


@pytest.mark.parametrize("form", ["json", "csv"])
async def test_an_explicit_no_investigation_in_the_export_lets_the_antecedents_go(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path, form: str
) -> None:
    """The positive control: the police say no investigation runs, so the antecedents go."""
    case = open_utrecht_case(client, auth)
    if form == "json":
        export = write_export(
            tmp_path / "police.json", police_record(case.reference, investigationRunning=False)
        )
    else:
        export = tmp_path / "police.csv"
        export.write_text(
            f"{CSV_HEADER},investigationRunning\n{case.reference},1,nee,nee,ja,nee\n",
            encoding="utf-8",
        )
    status, outcome, _ = await antecedents_after_two_cycles(sdk_client, case.id, export)
    assert (status, outcome) == (False, "disclosed")


@pytest.mark.parametrize("earlier", [False, True])
async def test_an_export_that_stops_saying_makes_the_status_unknown_again(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path, earlier: bool
) -> None:
    """An earlier "no investigation runs" is not kept once the export no longer says it:
    an investigation may have started since. The gateway records "not recorded" (audited)
    and the antecedents are withheld again."""
    case = open_utrecht_case(client, auth)
    export = write_export(
        tmp_path / "police.json", police_record(case.reference, investigationRunning=earlier)
    )
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        await runner.run_once()
        assert (await police.case(case.id)).investigation_running is earlier  # the control
        write_export(export, police_record(case.reference))
        await runner.run_once()
        assert (await police.case(case.id)).investigation_running is None
        request_id = await ask(sdk_client, case.id, [ANTECEDENTS])
        await runner.run_once()
    answer = values(await read(sdk_client, request_id))[ANTECEDENTS]
    assert (answer.outcome, answer.reasons) == (
        "redacted",
        ["investigation-status-unknown", "om-consent-missing"],
    )
    assert any("not recorded whether an investigation runs" in line for line in lines.out)


async def test_a_case_gone_from_the_police_export_keeps_its_recorded_status(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """Without a record the adapter answers "not available"; the status the police
    recorded stays (an export that lost the case by mistake rewrites nothing)."""
    case = open_utrecht_case(client, auth)
    export = write_export(
        tmp_path / "police.json", police_record(case.reference, investigationRunning=False)
    )
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, Lines())
        await runner.run_once()
        write_export(export, police_record("UTR-SOMETHING-ELSE"))
        await runner.run_once()
        assert (await police.case(case.id)).investigation_running is False


def test_a_police_record_without_the_status_reads_as_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "police.csv"
    path.write_text(
        f"{CSV_HEADER},investigationRunning\nUTR-1,1,nee,nee,ja,\nUTR-2,1,nee,nee,ja,nee\n",
        encoding="utf-8",
    )
    statuses = [row.record.investigation_running for row in read_export(path, PoliceRecord).rows]
    assert statuses == [None, False]
