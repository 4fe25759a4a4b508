"""Each reference adapter answers a real request end to end (in-process gateway, no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.base import PartnerAdapter
from adapters.corporation import CorporationAdapter
from adapters.municipality import MunicipalityAdapter
from adapters.neighbourhood_team import NeighbourhoodTeamAdapter
from adapters.police import PoliceAdapter
from adapters.runner import AdapterRunner, AdapterStopped
from adapters.sdk import Disclosure
from tests.adapters.conftest import Auth, ClientFactory, open_utrecht_case
from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord

pytestmark = pytest.mark.anyio

POLICE = "politie-midden-nederland"
ANTECEDENTS = "police-nuisance-antecedents"
VIOLENCE = "police-physical-violence"
INTIMIDATION = "police-serious-intimidation"
REPORTS = "police-reports"
RISK = "police-risk-assessment"


#: What the police adapter says once for a covenant without a clause that depends on a
#: police investigation: the covenant, no case or person.
RIJSWIJK_SAID = (
    "covenant rijswijk-woonoverlast: no clause depends on a police investigation; its status "
    "and OM consents are not sent for its cases while the adapter runs"
)


def police_record(reference: str, **overrides: Any) -> dict[str, Any]:
    return {
        "caseReference": reference,
        "reportCount": 3,
        "reports": ["Geluid 's nachts", "Ruzie in het trappenhuis", "Bedreiging"],
        "physicalViolence": False,
        "seriousIntimidation": True,
        "nuisanceAntecedents": True,
        **overrides,
    }


def write_export(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text(json.dumps(list(records), indent=2), encoding="utf-8")
    return path


class Lines:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []


def runner_for(
    adapter: PartnerAdapter[Any], client: Any, export: Path, lines: Lines
) -> AdapterRunner:
    """A runner that reads the export as soon as it changed: the tests write it whole."""
    return AdapterRunner(
        adapter, client, export, say=lines.out.append, warn=lines.err.append, settle_seconds=0
    )


def values(disclosure: Disclosure) -> dict[str, Any]:
    return {v.category: v for v in disclosure.values}


async def ask(
    sdk_client: ClientFactory, case_id: str, categories: list[str], purpose: str = "case-handling"
) -> str:
    async with sdk_client("u-centraal", "casemanager", user="cm-1") as manager:
        request = await manager.request_information(case_id, purpose, categories)
    return request.id


async def read(sdk_client: ClientFactory, request_id: str) -> Disclosure:
    async with sdk_client("u-centraal", "casemanager", user="cm-1") as manager:
        return await manager.read_answers(request_id)


async def test_police_adapter_answers_a_request_from_its_export_with_a_receipt(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    request_id = await ask(sdk_client, case.id, [VIOLENCE, INTIMIDATION, REPORTS])
    export = write_export(tmp_path / "police.json", police_record(case.reference))
    lines = Lines()
    async with sdk_client(POLICE) as police:
        report = await runner_for(PoliceAdapter(), police, export, lines).run_once()
        assert (await police.inbox()).items == []
    assert report.answered == 1
    answers = values(await read(sdk_client, request_id))
    assert answers[VIOLENCE].outcome == "disclosed"
    assert answers[VIOLENCE].yes_no is False
    assert answers[INTIMIDATION].yes_no is True
    assert answers[REPORTS].value is not None
    assert answers[REPORTS].value.startswith("3 report(s): Geluid 's nachts")
    assert any(f"answered request {request_id} (3 answered)" in line for line in lines.out)
    assert not any("Geluid" in line for line in lines.out + lines.err)


async def test_police_antecedents_withheld_until_the_om_consent_in_the_export_reaches_the_gateway(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    first = await ask(sdk_client, case.id, [ANTECEDENTS, VIOLENCE])
    export = write_export(
        tmp_path / "police.json", police_record(case.reference, investigationRunning=True)
    )
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        await runner.run_once()
        assert (await police.case(case.id)).investigation_running is True
        answers = values(await read(sdk_client, first))
        assert answers[ANTECEDENTS].outcome == "redacted"
        assert answers[ANTECEDENTS].yes_no is None
        # Asked before the police recorded anything: nobody knew whether an investigation
        # ran, so the antecedents were refused at once, as if one ran (U §5.3).
        assert answers[ANTECEDENTS].reasons == [
            "investigation-status-unknown",
            "om-consent-missing",
        ]
        assert answers[VIOLENCE].outcome == "disclosed"

        write_export(
            export,
            police_record(
                case.reference,
                investigationRunning=True,
                omConsents=[{"scope": [ANTECEDENTS], "expiresOn": "2099-12-31"}],
            ),
        )
        await runner.run_once()
        consents = (await police.case(case.id)).consents
        assert [(c.kind, c.scope, c.live) for c in consents if c.kind == "om-consent"] == [
            ("om-consent", [ANTECEDENTS], True)
        ]
        second = await ask(sdk_client, case.id, [ANTECEDENTS])
        await runner.run_once()
        await runner.run_once()  # nothing new: the consent is not registered twice
        assert (
            len([c for c in (await police.case(case.id)).consents if c.kind == "om-consent"]) == 1
        )
    answers = values(await read(sdk_client, second))
    assert answers[ANTECEDENTS].outcome == "disclosed"
    assert answers[ANTECEDENTS].yes_no is True


WINTER_NIGHT = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # 00:30 on 6 December in Amsterdam


@pytest.mark.parametrize(
    ("now", "until", "registered"),
    [
        (
            WINTER_NIGHT,
            ["2026-12-05", "2026-12-06"],
            [datetime(2026, 12, 6, 22, 59, 59, tzinfo=UTC)],
        ),
        (  # 00:30 on 15 July in Amsterdam, summer time
            datetime(2026, 7, 14, 22, 30, tzinfo=UTC),
            ["2026-07-14", "2026-07-15"],
            [datetime(2026, 7, 15, 21, 59, 59, tzinfo=UTC)],
        ),
        (  # The control: 23:30 on 5 December in Amsterdam, the same date as in UTC.
            WINTER_NIGHT - timedelta(hours=1),
            ["2026-12-05", "2026-12-06"],
            [
                datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC),
                datetime(2026, 12, 6, 22, 59, 59, tzinfo=UTC),
            ],
        ),
    ],
)
async def test_an_om_consent_ends_with_its_day_in_the_netherlands_not_in_utc(
    client: TestClient,
    auth: Auth,
    sdk_client: ClientFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
    until: list[str],
    registered: list[datetime],
) -> None:
    """An OM consent "until 5 December" was registered until 23:59:59 UTC and as live at
    00:30 on 6 December in Amsterdam: antecedents could go out under a consent that had
    ended. It ends with its Dutch day, and one that has ended there is not registered."""
    case = open_utrecht_case(client, auth)
    # One category each: the later consent for the same category would replace the earlier.
    consents = [
        {"scope": [category], "expiresOn": day}
        for category, day in zip((ANTECEDENTS, RISK), until, strict=True)
    ]
    export = write_export(
        tmp_path / "police.json", police_record(case.reference, omConsents=consents)
    )
    # The adapter's clock and the gateway's, where it checks and shows a consent's expiry.
    for module in ("gateway.db", "gateway.cases.changes", "gateway.cases.service"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now)
    async with sdk_client(POLICE) as police:
        await runner_for(PoliceAdapter(), police, export, Lines()).run_once()
        on_file = (await police.case(case.id)).consents
    assert sorted((c.expires_at, c.live) for c in on_file if c.kind == "om-consent") == [
        (moment, True) for moment in registered
    ]


async def test_police_adapter_pushes_new_registrations_once(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    export = write_export(tmp_path / "police.json", police_record(case.reference))
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        first = await runner.run_once()
        again = await runner.run_once()
    assert first.pushed == 1
    assert again.pushed == 0
    async with sdk_client("u-centraal", "casemanager", user="cm-1") as manager:
        facts = await manager.read_facts(case.id, "case-handling", [REPORTS])
    assert values(facts)[REPORTS].outcome == "disclosed"
    assert values(facts)[REPORTS].value is not None


async def test_a_bad_row_is_skipped_and_reported_while_the_good_ones_are_answered(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    request_id = await ask(sdk_client, case.id, [VIOLENCE])
    export = write_export(
        tmp_path / "police.json",
        police_record("UTR-OTHER", physicalViolence="sometimes"),
        police_record(case.reference, physicalViolence=True),
    )
    lines = Lines()
    async with sdk_client(POLICE) as police:
        report = await runner_for(PoliceAdapter(), police, export, lines).run_once()
    assert report.skipped_rows == 1
    assert report.answered == 1
    assert any(f"{export}:2: physicalViolence" in line for line in lines.err)
    assert values(await read(sdk_client, request_id))[VIOLENCE].yes_no is True


async def test_a_case_missing_from_the_export_is_answered_not_available(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    request_id = await ask(sdk_client, case.id, [VIOLENCE])
    export = write_export(tmp_path / "police.json", police_record("UTR-SOMETHING-ELSE"))
    async with sdk_client(POLICE) as police:
        report = await runner_for(PoliceAdapter(), police, export, Lines()).run_once()
    assert report.answered == 1
    status = await read(sdk_client, request_id)
    assert values(status)[VIOLENCE].state == "not-available"


async def test_neighbourhood_team_adapter_says_known_and_names_the_care_worker(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth, team=("buurtteam-sociaal",))
    request_id = await ask(
        sdk_client, case.id, ["neighbourhood-team-known", "neighbourhood-team-care-worker"]
    )
    export = write_export(
        tmp_path / "buurtteam.json",
        {"caseReference": case.reference, "known": True, "careWorker": "M. Jansen (fictief)"},
    )
    async with sdk_client("buurtteam-sociaal") as team:
        report = await runner_for(NeighbourhoodTeamAdapter(), team, export, Lines()).run_once()
    assert report.answered == 1
    answers = values(await read(sdk_client, request_id))
    assert answers["neighbourhood-team-known"].yes_no is True
    assert answers["neighbourhood-team-care-worker"].value == "M. Jansen (fictief)"


async def test_municipality_adapter_answers_with_its_own_facts(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth, team=("gemeente-utrecht",), stage="plan-of-approach")
    request_id = await ask(sdk_client, case.id, ["municipality-safety-knowledge"])
    export = write_export(
        tmp_path / "gemeente.json",
        {
            "caseReference": case.reference,
            "safetyKnowledge": "Adres bekend bij gebiedsmanager (fictief)",
            "administrativeMeasures": ["Waarschuwingsbrief"],
        },
    )
    async with sdk_client("gemeente-utrecht") as municipality:
        report = await runner_for(MunicipalityAdapter(), municipality, export, Lines()).run_once()
    assert report.answered == 1
    answer = values(await read(sdk_client, request_id))["municipality-safety-knowledge"]
    assert answer.value == (
        "Adres bekend bij gebiedsmanager (fictief). Administrative measures: Waarschuwingsbrief"
    )


async def test_corporation_adapter_gives_the_permission_its_export_records(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth, team=(), stage="permission-requested")
    export = write_export(
        tmp_path / "mitros.json",
        {"caseReference": case.reference, "tenantSince": "2016-04-01", "permission": "granted"},
    )
    async with sdk_client("mitros") as mitros:
        inbox = await mitros.inbox()
        assert [item.kind for item in inbox.items] == ["permission-request"]
        report = await runner_for(CorporationAdapter(), mitros, export, Lines()).run_once()
        assert report.permissions == 1
        summary = await mitros.case(case.id)
        assert [(c.kind, c.granted) for c in summary.consents] == [("corporation-permission", True)]
        assert (await mitros.inbox()).items == []


async def test_corporation_adapter_leaves_an_undecided_permission_waiting(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth, team=(), stage="permission-requested")
    export = write_export(tmp_path / "mitros.json", {"caseReference": case.reference})
    lines = Lines()
    async with sdk_client("mitros") as mitros:
        runner = runner_for(CorporationAdapter(), mitros, export, lines)
        first = await runner.run_once()
        second = await runner.run_once()
        assert len((await mitros.inbox()).items) == 1
    assert (first.permissions, first.waiting) == (0, 1)
    assert (second.permissions, second.waiting) == (0, 1)
    assert sum("no decision in the export" in line for line in lines.err) == 1


async def test_an_adapter_refuses_to_run_with_another_kind_of_partners_key(
    sdk_client: ClientFactory, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "police.json")
    async with sdk_client("mitros") as mitros:
        with pytest.raises(AdapterStopped, match="is a housing-corporation"):
            await runner_for(PoliceAdapter(), mitros, export, Lines()).run_once()


async def test_police_adapter_in_rijswijk_skips_the_investigation_status_and_still_pushes(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """No Rijswijk clause depends on a police investigation, so the gateway refuses to keep
    the status there (review3, finding 2): the adapter says so and syncs the rest."""
    landlord = RIJSWIJK_LANDLORD
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag",), causer=False
    )
    reference = client.get(f"/v1/cases/{case_id}", headers=auth(*landlord)).json()["reference"]
    export = write_export(
        tmp_path / "police.json", police_record(reference, investigationRunning=True)
    )
    lines = Lines()
    async with sdk_client("politie-den-haag") as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        report = await runner.run_once()
        again = await runner.run_once()
        assert (await police.case(case_id)).investigation_running is None
    assert (report.failed, report.pushed) == (0, 1), lines.err
    assert (again.failed, again.pushed) == (0, 0), lines.err
    assert lines.out.count(RIJSWIJK_SAID) == 1, lines.out


async def test_police_adapter_in_rijswijk_registers_no_om_consent_and_still_pushes(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """The OM is asked only while an investigation runs (U §5.3), and no Rijswijk clause
    depends on one: the gateway refuses the OM's consent there as it refuses the status
    (not-in-covenant), and the adapter says so and syncs the rest of the record."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag",), causer=False
    )
    reference = client.get(f"/v1/cases/{case_id}", headers=auth(*RIJSWIJK_LANDLORD)).json()[
        "reference"
    ]
    consent = {"scope": ["police-registrations"], "expiresOn": "2099-01-01"}
    export = write_export(tmp_path / "police.json", police_record(reference, omConsents=[consent]))
    lines = Lines()
    async with sdk_client("politie-den-haag") as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        report = await runner.run_once()
        consents = (await police.case(case_id)).consents
    assert [c for c in consents if c.kind == "om-consent"] == []
    assert (report.failed, report.pushed) == (0, 1), lines.err
    assert lines.out.count(RIJSWIJK_SAID) == 1, lines.out


async def test_police_adapter_in_utrecht_registers_the_om_consent(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """The positive control: U-5.3-antecedenten depends on the investigation."""
    case = open_utrecht_case(client, auth)
    consent = {"scope": [ANTECEDENTS], "expiresOn": "2099-01-01"}
    export = write_export(
        tmp_path / "police.json",
        police_record(case.reference, investigationRunning=True, omConsents=[consent]),
    )
    lines = Lines()
    async with sdk_client(POLICE) as police:
        report = await runner_for(PoliceAdapter(), police, export, lines).run_once()
        summary = await police.case(case.id)
    assert report.failed == 0, lines.err
    assert summary.investigation_running is True
    assert [(c.kind, c.scope, c.live) for c in summary.consents if c.kind == "om-consent"] == [
        ("om-consent", [ANTECEDENTS], True)
    ]


def _count_calls(client: Any, *names: str) -> dict[str, int]:
    """Count the calls of the client's ``names`` (each still goes to the gateway)."""
    counts = dict.fromkeys(names, 0)
    for name in names:
        call = getattr(client, name)

        async def counted(*args: Any, _name: str = name, _call: Any = call, **kw: Any) -> Any:
            counts[_name] += 1
            return await _call(*args, **kw)

        setattr(client, name, counted)
    return counts


async def test_police_adapter_asks_a_covenant_without_the_investigation_once_per_process(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """The summary names the status as not kept in the covenant (``notInCovenant``), so the
    adapter sends neither the status nor OM consents of that covenant's cases, not even once
    (before, it learnt it from the gateway's 422 not-in-covenant; before that, every changed
    record asked and was refused again, each refusal logged with the case)."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag",), causer=False
    )
    reference = client.get(f"/v1/cases/{case_id}", headers=auth(*RIJSWIJK_LANDLORD)).json()[
        "reference"
    ]
    consent = {"scope": ["police-registrations"], "expiresOn": "2099-01-01"}
    path = tmp_path / "police.json"
    lines = Lines()
    async with sdk_client("politie-den-haag") as police:
        sent = _count_calls(police, "set_investigation_status", "record_consent")
        runner = runner_for(PoliceAdapter(), police, path, lines)
        for count, running in ((3, True), (4, False), (5, None)):
            record = police_record(reference, reportCount=count, omConsents=[consent])
            if running is not None:
                record["investigationRunning"] = running
            write_export(path, record)
            report = await runner.run_once()
            assert report.failed == 0, lines.err
    assert sent == {"set_investigation_status": 0, "record_consent": 0}
    assert lines.out.count(RIJSWIJK_SAID) == 1, lines.out
    assert not [line for line in lines.out if "investigation" in line and reference in line]


async def test_police_adapter_learns_it_from_an_older_gateways_refusal(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """A gateway that does not name ``notInCovenant`` refuses the status (422
    not-in-covenant): the adapter asks once, says so once, and asks no more."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag",), causer=False
    )
    reference = client.get(f"/v1/cases/{case_id}", headers=auth(*RIJSWIJK_LANDLORD)).json()[
        "reference"
    ]
    path = tmp_path / "police.json"
    lines = Lines()
    async with sdk_client("politie-den-haag") as police:
        case = police.case

        async def older(*args: Any, **kw: Any) -> Any:
            return (await case(*args, **kw)).model_copy(update={"not_in_covenant": []})

        police.case = older  # type: ignore[method-assign]
        sent = _count_calls(police, "set_investigation_status")
        runner = runner_for(PoliceAdapter(), police, path, lines)
        for count in (3, 4):
            write_export(
                path, police_record(reference, reportCount=count, investigationRunning=True)
            )
            report = await runner.run_once()
            assert report.failed == 0, lines.err
    assert sent == {"set_investigation_status": 1}
    assert lines.out.count(RIJSWIJK_SAID) == 1, lines.out


async def test_police_adapter_tells_a_utrecht_case_each_changed_status(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """The positive control: where a clause depends on it, every change is told."""
    case = open_utrecht_case(client, auth)
    path = tmp_path / "police.json"
    lines = Lines()
    async with sdk_client(POLICE) as police:
        sent = _count_calls(police, "set_investigation_status")
        runner = runner_for(PoliceAdapter(), police, path, lines)
        for count, running in ((3, True), (4, False)):
            write_export(
                path, police_record(case.reference, reportCount=count, investigationRunning=running)
            )
            await runner.run_once()
            assert (await police.case(case.id)).investigation_running is running
    assert sent == {"set_investigation_status": 2}


async def test_a_value_back_to_an_earlier_one_is_pushed_again(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """Review8d F5: the export says 1 report, then 2, then 1 again. The third is pushed, so
    the gateway's newest fact is the export's again (it kept serving 2). The control: an
    export left as it is pushes nothing more."""
    case = open_utrecht_case(client, auth)
    export = tmp_path / "police.json"
    pushed = []
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, Lines())
        for count in (1, 2, 1, 1):
            write_export(export, police_record(case.reference, reportCount=count, reports=[]))
            pushed.append((await runner.run_once()).pushed)
    assert pushed == [1, 1, 1, 0]
    async with sdk_client("u-centraal", "casemanager", user="cm-1") as manager:
        facts = await manager.read_facts(case.id, "case-handling", [REPORTS])
    newest_first = sorted(facts.values, key=lambda v: str(v.recorded_at), reverse=True)
    assert [v.value for v in newest_first] == ["1 report(s)", "2 report(s)", "1 report(s)"]
