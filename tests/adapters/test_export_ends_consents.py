"""What the export ends, the adapter ends at the gateway on its next sync.

The OM withdraws its consent and the police take it out of their export (or the case's
record leaves it): the consent is withdrawn, so the antecedents (U §5.3) stop at once
instead of running on until the old expiry date. A corporation refuses later in its export,
or brings the expiry forward: the gateway hears it, and the case's disclosures (U §5.1)
stop. A corporation's export that says nothing is not its "no" (docs/adapters.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.base import end_of_day
from adapters.corporation import CorporationAdapter
from adapters.police import PoliceAdapter
from adapters.runner import AdapterRunner
from adapters.sdk import Consent, KetenpoortClient
from tests.adapters.conftest import Auth, ClientFactory, OpenCase, open_utrecht_case
from tests.adapters.test_reference_adapters import (
    ANTECEDENTS,
    POLICE,
    RISK,
    Lines,
    ask,
    police_record,
    read,
    runner_for,
    values,
    write_export,
)

pytestmark = pytest.mark.anyio

MITROS = "mitros"
FAR = "2099-12-31"
NEARER = "2098-06-30"


def until(day: str) -> datetime:
    return end_of_day(datetime.fromisoformat(day).date())


def om_consent(day: str = FAR, *scope: str) -> dict[str, Any]:
    return {"scope": list(scope or (ANTECEDENTS,)), "expiresOn": day}


async def live(client: KetenpoortClient, case_id: str, kind: str) -> list[Consent]:
    return [c for c in (await client.case(case_id)).consents if c.kind == kind and c.live]


async def live_om(client: KetenpoortClient, case_id: str) -> set[tuple[tuple[str, ...], datetime]]:
    return {
        (tuple(c.scope), c.expires_at)
        for c in await live(client, case_id, "om-consent")
        if c.expires_at is not None
    }


async def antecedents(sdk_client: ClientFactory, runner: AdapterRunner, case_id: str) -> str:
    """Ask for the antecedents and let the police adapter answer: the outcome."""
    request_id = await ask(sdk_client, case_id, [ANTECEDENTS])
    await runner.run_once()
    return str(values(await read(sdk_client, request_id))[ANTECEDENTS].outcome)


# --- the police: OM consents -------------------------------------------------------------


def police_export(path: Path, case: OpenCase, *consents: dict[str, Any]) -> Path:
    return write_export(
        path, police_record(case.reference, investigationRunning=True, omConsents=list(consents))
    )


async def test_an_om_consent_taken_out_of_the_export_is_withdrawn_and_antecedents_stop(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    export = police_export(tmp_path / "police.json", case, om_consent())
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        await runner.run_once()
        # The control: under the consent the export carries, the antecedents go.
        assert await antecedents(sdk_client, runner, case.id) == "disclosed"
        police_export(export, case)
        await runner.run_once()
        assert await live_om(police, case.id) == set()
        assert await antecedents(sdk_client, runner, case.id) == "redacted"
        [withdrawn] = [c for c in (await police.case(case.id)).consents if c.withdrawn_at]
    assert withdrawn.expires_at == until(FAR)
    assert any("withdrew the OM consent" in line for line in lines.out)


async def test_an_om_consent_whose_expiry_is_brought_forward_holds_only_to_the_new_date(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    export = police_export(tmp_path / "police.json", case, om_consent(FAR))
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, Lines())
        await runner.run_once()
        police_export(export, case, om_consent(NEARER))
        await runner.run_once()
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until(NEARER))}
        assert await antecedents(sdk_client, runner, case.id) == "disclosed"


async def test_withdrawing_one_om_consent_keeps_the_overlapping_one_the_export_still_has(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """A withdrawal is the OM's "no" for every category of its scope: a consent the export
    keeps for one of them must be live again afterwards, not silently ended with it."""
    case = open_utrecht_case(client, auth)
    wide, narrow = om_consent(FAR, ANTECEDENTS, RISK), om_consent(NEARER, ANTECEDENTS)
    export = police_export(tmp_path / "police.json", case, wide, narrow)
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, Lines())
        await runner.run_once()
        police_export(export, case, narrow)
        await runner.run_once()
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until(NEARER))}
        assert await antecedents(sdk_client, runner, case.id) == "disclosed"


async def test_an_om_consent_withdrawn_at_the_gateway_is_not_registered_again_from_the_export(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """The gateway's "no" wins over an export that still carries the same consent (fail
    closed); a consent with another expiry (the OM consented again) is registered."""
    case = open_utrecht_case(client, auth)
    export = police_export(tmp_path / "police.json", case, om_consent(FAR))
    async with sdk_client(POLICE) as police:
        await runner_for(PoliceAdapter(), police, export, Lines()).run_once()
        [consent] = await live(police, case.id, "om-consent")
        await police.withdraw_consent(case.id, consent.id)
        lines = Lines()
        restarted = runner_for(PoliceAdapter(), police, export, lines)
        await restarted.run_once()
        assert await live_om(police, case.id) == set()
        assert any("not registered again" in line for line in lines.out)
        police_export(export, case, om_consent(NEARER))
        await restarted.run_once()
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until(NEARER))}


async def test_a_case_gone_from_the_police_export_loses_its_om_consents_not_its_status(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    export = police_export(tmp_path / "police.json", case, om_consent())
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        await runner.run_once()
        assert await live_om(police, case.id) != set()  # the control
        write_export(export, police_record("UTR-SOMETHING-ELSE"))
        await runner.run_once()
        summary = await police.case(case.id)
        assert await live_om(police, case.id) == set()
        assert summary.investigation_running is True
        # Back in the export: the same consent stays withdrawn (see the test above).
        police_export(export, case, om_consent())
        await runner.run_once()
        assert await live_om(police, case.id) == set()
    assert any("not in the export" in line for line in lines.out)


# --- the corporation: its permission (U §5.1-5.2) ----------------------------------------


async def granted_by_the_adapter(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, export: Path, **record: Any
) -> OpenCase:
    """A case whose permission request the corporation adapter granted from ``export``."""
    case = open_utrecht_case(client, auth, team=(), stage="permission-requested")
    write_export(export, {"caseReference": case.reference, "permission": "granted", **record})
    async with sdk_client(MITROS) as mitros:
        report = await runner_for(CorporationAdapter(), mitros, export, Lines()).run_once()
        assert report.permissions == 1
        assert [c.granted for c in await live(mitros, case.id, "corporation-permission")] == [True]
    return case


async def test_a_permission_refused_later_in_the_export_ends_at_the_gateway(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    export = tmp_path / "mitros.json"
    case = await granted_by_the_adapter(client, auth, sdk_client, export)
    write_export(export, {"caseReference": case.reference, "permission": "refused"})
    lines = Lines()
    async with sdk_client(MITROS) as mitros:
        runner = runner_for(CorporationAdapter(), mitros, export, lines)
        await runner.run_once()
        await runner.run_once()
        assert await live(mitros, case.id, "corporation-permission") == []
        consents = (await mitros.case(case.id)).consents
    assert [c.granted for c in consents] == [True, False]
    assert sum("permission refused" in line for line in lines.out) == 1


@pytest.mark.parametrize("export_says", ["no decision", "no record"])
async def test_a_permission_given_outside_the_export_stands_while_the_export_is_silent(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path, export_says: str
) -> None:
    """Mitros's woonconsulent gave the permission over the API (as its own report of the
    dwelling would, U §5.2): an export without a decision on it, or without the case, is
    not the corporation's "no" and leaves it standing, with a line saying so."""
    case = open_utrecht_case(client, auth, team=())  # the permission given by Mitros
    record = {"caseReference": case.reference if export_says == "no decision" else "UTR-X"}
    export = write_export(tmp_path / "mitros.json", {**record, "tenancy": "Huurcontract"})
    lines = Lines()
    async with sdk_client(MITROS) as mitros:
        await runner_for(CorporationAdapter(), mitros, export, lines).run_once()
        standing = await live(mitros, case.id, "corporation-permission")
    assert [c.granted for c in standing] == [True]
    assert any("the permission on record stands" in line for line in lines.out)


async def test_a_permission_whose_expiry_is_brought_forward_holds_only_to_the_new_date(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    export = tmp_path / "mitros.json"
    case = await granted_by_the_adapter(client, auth, sdk_client, export, permissionExpiresOn=FAR)
    write_export(
        export,
        {"caseReference": case.reference, "permission": "granted", "permissionExpiresOn": NEARER},
    )
    async with sdk_client(MITROS) as mitros:
        await runner_for(CorporationAdapter(), mitros, export, Lines()).run_once()
        standing = await live(mitros, case.id, "corporation-permission")
    assert [c.expires_at for c in standing] == [until(NEARER)]


async def test_an_unchanged_grant_is_not_recorded_again(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """The control for the tests above: a sync that finds the export and the gateway
    agreeing records nothing, also after a restart."""
    export = tmp_path / "mitros.json"
    case = await granted_by_the_adapter(client, auth, sdk_client, export)
    async with sdk_client(MITROS) as mitros:
        report = await runner_for(CorporationAdapter(), mitros, export, Lines()).run_once()
        consents = (await mitros.case(case.id)).consents
    assert report.permissions == 0
    assert [(c.granted, c.live) for c in consents] == [(True, True)]


async def test_a_refused_permission_is_not_granted_again_by_the_sync_alone(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """A grant after a "no" needs the gateway to ask again (a permission request): an
    export that flips back is not enough (fail closed)."""
    export = tmp_path / "mitros.json"
    case = await granted_by_the_adapter(client, auth, sdk_client, export)
    async with sdk_client(MITROS) as mitros:
        runner = runner_for(CorporationAdapter(), mitros, export, Lines())
        write_export(export, {"caseReference": case.reference, "permission": "refused"})
        await runner.run_once()
        write_export(export, {"caseReference": case.reference, "permission": "granted"})
        await runner.run_once()
        assert await live(mitros, case.id, "corporation-permission") == []


async def test_an_export_read_while_being_written_withdraws_no_om_consent(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """Review8d S1: the police's system rewrites its export in place; the adapter must not
    read it half-written (the case not yet in it would lose its OM consent, for good: a
    consent withdrawn at the gateway is not registered again from the export). A changed
    export is read once it has stood still for a second. The control: an export that
    really lost the case, and stays so, withdraws it."""
    case = open_utrecht_case(client, auth)
    export = police_export(tmp_path / "police.json", case, om_consent())
    old = time.time() - 60
    os.utime(export, (old, old))
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = AdapterRunner(
            PoliceAdapter(), police, export, say=lines.out.append, warn=lines.err.append
        )
        await runner.run_once()
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until(FAR))}
        full = export.read_text(encoding="utf-8")
        # The writer has written the first part (here: an export without the case yet)...
        export.write_text(json.dumps([police_record("UTR-EERDER")]), encoding="utf-8")
        cycle = asyncio.ensure_future(runner.run_once())
        await asyncio.sleep(0.3)
        # ... and finishes the file while the adapter waits for it to stand still.
        export.write_text(full, encoding="utf-8")
        await cycle
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until(FAR))}
        assert not any("withdrew" in line for line in lines.out)

        export.write_text(json.dumps([police_record("UTR-EERDER")]), encoding="utf-8")
        await runner.run_once()
        assert await live_om(police, case.id) == set()
