"""A case's record is the one record that names it, by id and reference alike (review8d F4).

A record whose caseId names case A and caseReference case B was used for both (another
person's police data for one of them); a case named by two records got the last one,
silently. Both are now refused and reported with their lines, and the case is left as the
gateway has it: nothing pushed, nothing synced, nothing withdrawn as if it had left the
export, and its requests wait in the inbox until the export changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.exports import read_export
from adapters.police import PoliceAdapter, PoliceRecord
from tests.adapters.conftest import Auth, ClientFactory, open_utrecht_case
from tests.adapters.test_export_ends_consents import live_om, om_consent, until
from tests.adapters.test_reference_adapters import (
    ANTECEDENTS,
    POLICE,
    REPORTS,
    VIOLENCE,
    Lines,
    ask,
    police_record,
    read,
    runner_for,
    values,
    write_export,
)

pytestmark = pytest.mark.anyio


def jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_the_reviewers_mix_of_ids_references_and_duplicates_uses_no_record(
    tmp_path: Path,
) -> None:
    """The probe: A by reference, a record with A's id and B's reference, A again, C twice.
    Every one of the three cases is refused with the lines that name it; none is read."""
    path = jsonl(
        tmp_path / "police.jsonl",
        police_record("UTR-A", reportCount=1, reports=[]),
        police_record("UTR-B", caseId="id-a", reportCount=9, physicalViolence=True, reports=[]),
        police_record("UTR-A", reportCount=2, reports=[]),
        police_record("UTR-C", reportCount=3, physicalViolence=True, reports=[]),
        police_record("UTR-C", reportCount=0, reports=[]),
    )
    export = read_export(path, PoliceRecord)
    assert export.problems == []
    found = {
        ref: export.lookup(case_id=case_id, case_reference=ref)
        for case_id, ref in (("id-a", "UTR-A"), ("id-b", "UTR-B"), ("id-c", "UTR-C"))
    }
    assert {ref: (f.record, f.settled) for ref, f in found.items()} == {
        "UTR-A": (None, False),
        "UTR-B": (None, False),
        "UTR-C": (None, False),
    }
    mixed = "caseId and caseReference name different cases: the record is used for neither"
    assert [(p.line, p.message) for p in found["UTR-A"].problems] == [
        (2, mixed),
        (1, "case UTR-A is named by 3 records (lines 1, 2, 3): none of them is used"),
    ]
    assert [(p.line, p.message) for p in found["UTR-B"].problems] == [(2, mixed)]
    assert [(p.line, p.message) for p in found["UTR-C"].problems] == [
        (4, "case UTR-C is named by 2 records (lines 4, 5): none of them is used")
    ]
    assert export.for_case(case_id="id-b", case_reference="UTR-B") is None


def test_a_record_naming_its_case_by_id_and_reference_alike_is_used(tmp_path: Path) -> None:
    """The control: id and reference of the same case, by id alone, by reference alone."""
    path = jsonl(
        tmp_path / "police.jsonl",
        police_record("UTR-A", caseId="id-a"),
        {**police_record("-"), "caseReference": None, "caseId": "id-b"},
        police_record("UTR-C"),
    )
    export = read_export(path, PoliceRecord)
    for case_id, ref in (("id-a", "UTR-A"), ("id-b", "UTR-B"), ("id-c", "UTR-C")):
        found = export.lookup(case_id=case_id, case_reference=ref)
        assert found.settled
        assert found.problems == ()
        assert found.record is not None
    nothing = export.lookup(case_id="id-d", case_reference="UTR-D")
    assert (nothing.record, nothing.settled) == (None, True)


def test_a_refused_row_leaves_the_case_it_names_unsettled(tmp_path: Path) -> None:
    """A case whose row was refused (reported when the export is read) is not "missing
    from the export", even beside a good record of it."""
    path = jsonl(
        tmp_path / "police.jsonl",
        police_record("UTR-A", physicalViolence="misschien"),
        police_record("UTR-A"),
        police_record("UTR-B", physicalViolence="misschien"),
    )
    export = read_export(path, PoliceRecord)
    assert [p.line for p in export.problems] == [1, 3]
    a = export.lookup(case_id="id-a", case_reference="UTR-A")
    b = export.lookup(case_id="id-b", case_reference="UTR-B")
    assert (a.record, a.settled) == (None, False)
    assert [p.message for p in a.problems] == [
        "case UTR-A is named by 2 records (lines 1, 2): none of them is used"
    ]
    assert (b.record, b.settled, b.problems) == (None, False, ())


async def test_a_record_naming_two_cases_answers_for_neither_end_to_end(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path
) -> None:
    """B's request waits (reported once) instead of being answered from a record that also
    says it is A's; nothing is pushed for A or B. Once the export is corrected, B is
    answered from its own record (the control)."""
    a = open_utrecht_case(client, auth, house_number=12)
    b = open_utrecht_case(client, auth, house_number=14)
    export = write_export(
        tmp_path / "police.json",
        police_record(a.reference),
        police_record(b.reference, caseId=a.id, reportCount=9, physicalViolence=True),
    )
    request_id = await ask(sdk_client, b.id, [VIOLENCE])
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        first = await runner.run_once()
        second = await runner.run_once()
        assert [item.request_id for item in (await police.inbox()).items] == [request_id]
    assert (first.answered, first.pushed, first.waiting, first.skipped_rows) == (0, 0, 1, 2)
    assert (second.answered, second.pushed, second.waiting, second.skipped_rows) == (0, 0, 1, 0)
    assert sum("caseId and caseReference name different cases" in line for line in lines.err) == 1
    assert sum(f"case {a.reference} is named by 2 records" in line for line in lines.err) == 1
    assert sum(f"case {b.reference}: information-request waits" in line for line in lines.err) == 1
    async with sdk_client("u-centraal", "casemanager", user="cm-1") as manager:
        for case in (a, b):
            facts = await manager.read_facts(case.id, "case-handling", [REPORTS])
            assert values(facts)[REPORTS].reasons == ["nothing-on-file"]

    write_export(
        export,
        police_record(a.reference, caseId=a.id),
        police_record(b.reference, caseId=b.id, physicalViolence=False),
    )
    async with sdk_client(POLICE) as police:
        again = await runner_for(PoliceAdapter(), police, export, Lines()).run_once()
    assert (again.answered, again.pushed) == (1, 2)
    assert values(await read(sdk_client, request_id))[VIOLENCE].yes_no is False


@pytest.mark.parametrize("how", ["twice", "bad-row"])
async def test_a_case_whose_records_are_refused_keeps_its_om_consent(
    client: TestClient, auth: Auth, sdk_client: ClientFactory, tmp_path: Path, how: str
) -> None:
    """Refused records are not "the case left the export": the police's OM consent stays
    (a withdrawal would not be undone by the corrected export). The control: the case
    really gone from the export withdraws it."""
    case = open_utrecht_case(client, auth)
    record = police_record(case.reference, investigationRunning=True, omConsents=[om_consent()])
    export = write_export(tmp_path / "police.json", record)
    lines = Lines()
    async with sdk_client(POLICE) as police:
        runner = runner_for(PoliceAdapter(), police, export, lines)
        await runner.run_once()
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until("2099-12-31"))}
        other = (
            {**record, "reportCount": 4}
            if how == "twice"
            else {**record, "physicalViolence": "misschien"}
        )
        write_export(export, other, record if how == "twice" else police_record("UTR-ELSE"))
        report = await runner.run_once()
        assert report.skipped_rows == 1
        assert await live_om(police, case.id) == {((ANTECEDENTS,), until("2099-12-31"))}
        assert not any("withdrew" in line for line in lines.out)

        write_export(export, police_record("UTR-ELSE"))
        await runner.run_once()
        assert await live_om(police, case.id) == set()
