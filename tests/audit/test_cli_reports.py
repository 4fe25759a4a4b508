"""``ketenpoort audit search | access-report | register | activity``: the privacy officer's
reports on the command line, computed by the same functions as the API."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner, Result

from gateway.audit import Actor, ProcessingActivity
from gateway.audit.cli import read_identifier
from gateway.cli import app
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.db import transaction

from .builders import disclosure
from .concerning_case import CAUSER, concerning_case

Auth = Callable[..., dict[str, str]]
COVENANT = "utrecht-extreme-woonoverlast"
BSN = "123456782"
OTHER_BSN = "999999990"


#: An entry without categories or clauses: of those the access report names only what
#: concerns the person's role in the entry's case, and these entries have no case
#: (tests/audit/test_access_report_concerns.py has the CLI's report of a real case).
BARE: dict[str, object] = {
    "disclosed": (),
    "redacted": (),
    "processing": ProcessingActivity(covenant_id=COVENANT, purpose="case-handling"),
}


def _record(context: GatewayContext, count: int, bsn: str = BSN, **overrides: object) -> None:
    log = context.audit
    with transaction(context.session_factory) as session:
        subject = log.data_subject(identifier_type="bsn", identifier=bsn, session=session)
        for number in range(count):
            entry = disclosure(number, data_subject=subject, **overrides)
            log.append(session=session, entry=entry)


def _cli(settings: Settings, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        app,
        ["audit", *args, "--data-dir", str(settings.data_dir)],
        input=stdin,
        env={"KETENPOORT_DATABASE_URL": settings.resolved_database_url},
    )


class TestAccessReport:
    def test_lists_every_processing_about_the_person_read_from_stdin(
        self, context: GatewayContext, settings: Settings
    ) -> None:
        _record(context, 2, **BARE)
        _record(context, 1, bsn=OTHER_BSN, **BARE)

        result = _cli(settings, "access-report", "--covenant", COVENANT, stdin=f"{BSN}\n")

        assert result.exit_code == 0, result.output
        assert BSN not in result.stdout
        report = json.loads(result.stdout)
        assert report["covenantId"] == COVENANT
        assert report["identifierType"] == "bsn"
        assert [line["index"] for line in report["lines"]] == [0, 1]
        assert report["lines"][0]["purpose"] == "case-handling"
        assert report["lines"][0]["recipient"] == "u-centraal"
        # Written as people write it, the same person.
        spaced = _cli(settings, "access-report", "--covenant", COVENANT, stdin="1234 56 782\n")
        again = json.loads(spaced.stdout)["lines"]
        assert again[:2] == report["lines"]
        # The first report was audited (index 3, after the other person's entry): it is a
        # processing about this person too, so the second report lists it.
        assert [(line["index"], line["activity"]) for line in again[2:]] == [(3, "access-report")]

    def test_gives_the_same_lines_as_the_api(
        self, context: GatewayContext, settings: Settings, client: TestClient, auth: Auth
    ) -> None:
        _record(context, 3, **BARE)
        api = client.post(
            "/v1/audit/access-report",
            json={"identifierType": "bsn", "identifier": BSN},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        ).json()
        cli = json.loads(_cli(settings, "access-report", "--covenant", COVENANT, stdin=BSN).stdout)
        assert cli["lines"][:3] == api["lines"]
        assert len(api["lines"]) == 3
        # The API's report was audited, so the CLI's (made after it) lists it.
        assert [line["activity"] for line in cli["lines"][3:]] == ["access-report"]

    def test_csv_has_one_row_per_line(
        self, context: GatewayContext, settings: Settings, client: TestClient, auth: Auth
    ) -> None:
        concerning_case(client, auth)  # the causer's case: the police's items concern them
        api = client.post(
            "/v1/audit/access-report",
            json={"identifierType": "bsn", "identifier": CAUSER},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        ).json()
        result = _cli(
            settings, "access-report", "--covenant", COVENANT, "--format", "csv", stdin=CAUSER
        )
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [row["index"] for row in rows][: len(api["lines"])] == [
            str(line["index"]) for line in api["lines"]
        ]
        [read] = [row for row in rows if row["activity"] == "disclosure"]
        assert read["recipient"] == "u-centraal"
        assert read["categoriesDisclosed"] == "police-reports"
        assert read["categoriesRedacted"] == "police-nuisance-antecedents"

    def test_an_invalid_bsn_is_refused_without_echoing_it(
        self, context: GatewayContext, settings: Settings
    ) -> None:
        _record(context, 1)
        result = _cli(settings, "access-report", "--covenant", COVENANT, stdin="123456789\n")
        assert result.exit_code == 2
        assert "11-check" in result.output
        assert "123456789" not in result.output
        assert "Traceback" not in result.output

    def test_without_an_identifier_on_stdin_it_fails(self, settings: Settings) -> None:
        result = _cli(settings, "access-report", "--covenant", COVENANT, stdin="")
        assert result.exit_code == 2
        assert "no identifier given" in result.output

    def test_the_identifier_is_never_an_argument(
        self, context: GatewayContext, settings: Settings
    ) -> None:
        result = _cli(settings, "access-report", "--covenant", COVENANT, BSN, stdin="")
        assert result.exit_code == 2
        assert "lines" not in result.stdout

    def test_a_wrong_data_dir_is_an_error_not_an_empty_report(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        result = CliRunner().invoke(
            app,
            ["audit", "access-report", "--covenant", COVENANT, "--data-dir", str(tmp_path / "x")],
            input=BSN,
            env={"KETENPOORT_DATABASE_URL": settings.resolved_database_url},
        )
        assert result.exit_code == 2
        assert "is --data-dir right?" in result.output
        assert not (tmp_path / "x" / "audit" / "pseudonym-key").exists()


class TestSearch:
    def test_filters_by_subject_clause_partner_and_outcome(
        self, context: GatewayContext, settings: Settings
    ) -> None:
        _record(context, 2)
        _record(context, 2, outcome="denied", requester=Actor(partner_id="mitros"))
        _record(context, 1, bsn=OTHER_BSN)

        def indexes(*args: str, stdin: str | None = None) -> list[int]:
            result = _cli(settings, "search", "--covenant", COVENANT, *args, stdin=stdin)
            assert result.exit_code == 0, result.output
            return [entry["index"] for entry in json.loads(result.stdout)]

        assert indexes() == [0, 1, 2, 3, 4]
        assert indexes("--subject", "bsn", stdin=BSN) == [0, 1, 2, 3]
        assert indexes("--outcome", "denied") == [2, 3]
        assert indexes("--partner", "mitros") == [2, 3]
        assert indexes("--clause", "U-5.3-geweld", "--case", "case-1") == [1, 3]
        assert indexes("--clause", "U-9-elders") == []
        assert indexes("--from", "2026-03-02T09:31:00Z", "--until", "2026-03-02T09:32") == [1, 3]

    def test_refused_finds_whole_and_partial_refusals_only(
        self, context: GatewayContext, settings: Settings
    ) -> None:
        _record(context, 1)  # partially disclosed: one category withheld
        _record(context, 1, outcome="disclosed", redacted=())
        _record(context, 1, outcome="denied", disclosed=())

        def indexes(*args: str) -> list[int]:
            result = _cli(settings, "search", "--covenant", COVENANT, *args)
            assert result.exit_code == 0, result.output
            return [entry["index"] for entry in json.loads(result.stdout)]

        assert indexes() == [0, 1, 2]  # control
        assert indexes("--refused") == [0, 2]
        assert indexes("--outcome", "denied") == [2]  # misses the partial refusal

    def test_finds_a_dwelling_by_its_address_and_refuses_a_malformed_one(
        self, context: GatewayContext, settings: Settings
    ) -> None:
        log = context.audit
        with transaction(context.session_factory) as session:
            dwelling = log.data_subject(
                identifier_type="address", identifier="3511AB 12", session=session
            )
        _record(context, 1)
        _record(context, 2, bsn=OTHER_BSN, data_subjects=(dwelling,))

        found = _cli(
            settings, "search", "--covenant", COVENANT, "--subject", "address", stdin="3511 ab 12"
        )
        assert found.exit_code == 0, found.output
        assert [entry["index"] for entry in json.loads(found.stdout)] == [1, 2]
        bad = _cli(
            settings, "search", "--covenant", COVENANT, "--subject", "address", stdin="nowhere 1"
        )
        assert bad.exit_code == 2
        assert "postcode" in bad.output
        assert "nowhere" not in bad.output

    def test_writes_json_lines_and_csv_to_a_private_file(
        self, context: GatewayContext, settings: Settings, tmp_path: Path
    ) -> None:
        _record(context, 3)
        target = tmp_path / "out.jsonl"
        result = _cli(
            settings, "search", "--covenant", COVENANT, "--format", "jsonl", "-o", str(target)
        )
        assert result.exit_code == 0, result.output
        assert "Wrote 3 entries" in result.stderr
        lines = target.read_text().splitlines()
        assert [json.loads(line)["index"] for line in lines] == [0, 1, 2]
        assert stat.S_IMODE(target.stat().st_mode) == 0o600

        table = _cli(settings, "search", "--covenant", COVENANT, "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(table.stdout)))
        assert [row["index"] for row in rows] == ["0", "1", "2"]
        assert rows[0]["clauseIds"] == "U-5.3-geweld"

    def test_a_failure_halfway_leaves_no_partial_file(
        self,
        context: GatewayContext,
        settings: Settings,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        _record(context, 2)

        def broken(*args: object, **kwargs: object) -> Iterator[dict[str, object]]:
            yield {"index": 0}
            raise OperationalError("SELECT", {}, Exception("connection lost"))

        monkeypatch.setattr("gateway.audit.reports.iter_entries", broken)
        target = tmp_path / "half.jsonl"
        result = _cli(
            settings, "search", "--covenant", COVENANT, "--format", "jsonl", "-o", str(target)
        )
        assert result.exit_code == 2
        assert "database error (OperationalError)" in result.output
        assert "Traceback" not in result.output
        assert not target.exists()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--format", "xml"], "--format is one of"),
            (["--outcome", "maybe"], "outcome"),
            (["--from", "yesterday"], "--from is an ISO 8601"),
            (["--covenant", "nowhere"], "unknown covenant"),
        ],
    )
    def test_bad_options_are_clear_errors(
        self, settings: Settings, args: list[str], message: str
    ) -> None:
        result = _cli(settings, "search", *(["--covenant", COVENANT] + args))
        assert result.exit_code == 2
        assert message in result.output
        assert "Traceback" not in result.output


def test_register_lists_every_clause_of_the_covenant_file(
    context: GatewayContext, settings: Settings
) -> None:
    covenant = context.covenants[COVENANT]
    document = json.loads(_cli(settings, "register", "--covenant", COVENANT).stdout)
    assert document["covenantName"] == covenant.name
    assert {a["clauseId"] for a in document["activities"]} == {c.id for c in covenant.clauses}
    table = _cli(settings, "register", "--covenant", COVENANT, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert {row["clauseId"] for row in rows} == {c.id for c in covenant.clauses}
    assert all(row["purpose"] for row in rows)


def test_activity_flags_a_partner_with_many_denials(
    context: GatewayContext, settings: Settings
) -> None:
    _record(context, 6, outcome="denied", requester=Actor(partner_id="mitros"))
    result = _cli(
        settings, "activity", "--covenant", COVENANT, "--period", "day", "--format", "jsonl"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {
            "partnerId": "mitros",
            "period": "2026-03-02",
            "requests": 6,
            "denials": 6,
            "denialRate": 1.0,
            "unusual": True,
            "reason": "6 of 6 requests denied",
        }
    ]
    empty = _cli(settings, "activity", "--covenant", COVENANT, "--from", "2026-04-01")
    assert json.loads(empty.stdout)["rows"] == []


def test_read_identifier_takes_the_first_line_and_checks_a_bsn() -> None:
    assert read_identifier("bsn", stdin=io.StringIO(" 123456782 \nrest")) == "123456782"
    assert read_identifier("case-person", stdin=io.StringIO("p-1")) == "p-1"


def test_on_a_terminal_the_identifier_is_asked_for_without_echo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []

    def no_echo(prompt: str) -> str:
        prompts.append(prompt)
        return "1234 56 782"

    monkeypatch.setattr("getpass.getpass", no_echo)
    assert read_identifier("bsn", stdin=Terminal("never read")) == "1234 56 782"
    assert prompts == ["bsn of the data subject (not shown): "]
