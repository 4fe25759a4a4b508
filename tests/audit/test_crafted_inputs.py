"""Crafted exports and crafted database rows never crash a verifier (review8b F3).

Whoever hands an auditor the export (or can write the database) must not be able to make
``ketenpoort-verify``, ``ketenpoort audit verify`` (``--export`` too) or the privacy officers'
Verificatie page crash with a traceback instead of answering: a file that is not an export is
"cannot read FILE: line N: ..." on one line of stderr, exit code 2; a database body that is not
a log entry is a named problem (``malformed``/``changed``), "not intact".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit.merkle import leaf_hash
from audit.verifier_cli import main as ketenpoort_verify
from gateway.audit.export import write_export
from gateway.cli import app

from .test_tamper_matrix import Deployment, deployment, first  # noqa: F401
from .witnesses import log_verifier

Lines = list[str]


def _header(lines: Lines) -> None:
    lines[0] = "[]"


def _checkpoint_field(name: str, value: object) -> Callable[[Lines], None]:
    def change(lines: Lines) -> None:
        record = json.loads(lines[1])
        assert record["type"] == "checkpoint"
        if value is _DROP:
            del record[name]
        else:
            record[name] = value
        lines[1] = json.dumps(record)

    return change


def _entry_field(name: str, value: object, at: int = -1) -> Callable[[Lines], None]:
    def change(lines: Lines) -> None:
        record = json.loads(lines[at])
        assert record["type"] == "entry"
        record[name] = value
        lines[at] = json.dumps(record)

    return change


def _entry_raw(text: str, at: int = -1) -> Callable[[Lines], None]:
    def change(lines: Lines) -> None:
        lines[at] = text

    return change


def _insert(text: str, at: int) -> Callable[[Lines], None]:
    def change(lines: Lines) -> None:
        lines.insert(at, text)

    return change


def _unfinished_body(lines: Lines) -> None:
    """The last entry's body cut after its index digits, its leaf hash recomputed."""
    record = json.loads(lines[-1])
    body = '{"format":1,"index":' + str(record["index"])
    record.update(body=body, leafHash=leaf_hash(body.encode()).hex())
    lines[-1] = json.dumps(record)


def _checkpoint_after_entries(lines: Lines) -> None:
    lines.append(lines[1])


_DROP = object()

#: Each row of review8b's table (and its siblings), a one-line change of a real export.
CRAFTED = {
    "header-is-a-list": _header,
    "checkpoint-without-treeSize": _checkpoint_field("treeSize", _DROP),
    "checkpoint-signature-a-number": _checkpoint_field("signature", 5),
    "checkpoint-signatures-not-a-list": _checkpoint_field("signatures", 5),
    "checkpoint-treeSize-a-string": _checkpoint_field("treeSize", "seven"),
    "non-json-line-after-the-entries": _insert("{not json", 100),
    "entry-index-nan": _entry_raw('{"type": "entry", "index": NaN, "leafHash": "00", "body": ""}'),
    "entry-index-a-bool": _entry_field("index", True, at=4),
    "a-list-among-entries": _insert("[1]", 10),
    "entry-body-a-number": _entry_field("body", 7),
    "entry-leafHash-not-hex": _entry_field("leafHash", "zz"),
    "a-checkpoint-after-the-entries": _checkpoint_after_entries,
    "not-utf8": lambda lines: lines.append("\udcff"),
}


@pytest.fixture
def export(deployment: Deployment, tmp_path: Path) -> Path:  # noqa: F811
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_export(deployment.factory, out, [deployment.log.signer.public_key])
    return path


def _keys(deployment: Deployment) -> list[str]:  # noqa: F811
    keys = ["--log-key", log_verifier(deployment.log).vkey()]
    for witness in deployment.witnesses:
        keys += ["--witness-key", witness.verifier.vkey()]
    return [*keys, "--quorum", "2", "--offline"]


def _crafted(export: Path, change: Callable[[Lines], None]) -> Path:
    lines = export.read_text(encoding="utf-8").splitlines()
    change(lines)
    crafted = export.with_name("crafted.jsonl")
    crafted.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    return crafted


def test_the_untouched_export_verifies(
    deployment: Deployment,  # noqa: F811
    export: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Positive control: the same command on the export as written says OK."""
    assert ketenpoort_verify([str(export), *_keys(deployment)]) == 0
    assert "OK (offline): the log verifies" in capsys.readouterr().out


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_ketenpoort_verify_cannot_read_a_crafted_export(
    deployment: Deployment,  # noqa: F811
    export: Path,
    change: Callable[[Lines], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    crafted = _crafted(export, change)
    assert ketenpoort_verify([str(crafted), *_keys(deployment)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot read {crafted}: "), err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_audit_verify_export_cannot_read_a_crafted_export(
    deployment: Deployment,  # noqa: F811
    export: Path,
    change: Callable[[Lines], None],
) -> None:
    """The gateway's own command on the same files (it caught ValueError around the header
    only)."""
    crafted = _crafted(export, change)
    witnesses = [arg for w in deployment.witnesses for arg in ("--witness", w.verifier.vkey())]
    result = CliRunner().invoke(
        app,
        ["audit", "verify", "--export", str(crafted), "--log-key",
         log_verifier(deployment.log).vkey(), *witnesses, "--quorum", "2", "--offline"],
    )  # fmt: skip
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith(f"error: cannot read {crafted}: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_an_exported_body_cut_after_its_index_is_malformed(
    deployment: Deployment,  # noqa: F811
    export: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A readable export whose entry is not a log entry: a finding (exit 1), not a crash (it
    raised IndexError in ``_body_index``)."""
    crafted = _crafted(export, _unfinished_body)
    assert ketenpoort_verify([str(crafted), *_keys(deployment)]) == 1
    err = capsys.readouterr().err
    assert "entry 19: malformed: its body is not a log entry" in err, err
    assert "checkpoint 20: changed" in err


# -- crafted database rows --------------------------------------------------------------------


def _set_body(deployment: Deployment, index: int, body: str) -> None:  # noqa: F811
    deployment.sql(
        "UPDATE audit_entry SET body = :b, leaf_hash = :h WHERE idx = :i",
        b=body,
        h=leaf_hash(body.encode()),
        i=index,
    )


def test_a_body_cut_after_its_index_is_malformed(deployment: Deployment) -> None:  # noqa: F811
    """It raised IndexError out of ``audit verify`` and the Verificatie page."""
    _set_body(deployment, 19, '{"format":1,"index":19')
    result = deployment.verify()
    kinds = {(p.kind, p.index, p.checkpoint) for p in result.problems}
    assert ("malformed", 19, None) in kinds, result.problems
    assert ("changed", None, 20) in kinds  # the witnessed root names it too


@pytest.mark.parametrize(
    "field",
    [
        '"dataOwners":[1]',
        '"dataOwners":5',
        '"dataSubjects":7',
        '"processing":{"clauseIds":[true],"covenantId":"c"}',
    ],
)
def test_a_body_field_of_the_wrong_type_is_malformed(
    deployment: Deployment,  # noqa: F811
    field: str,
) -> None:
    """It raised TypeError from the search-column check."""
    _set_body(deployment, 19, '{"activity":"disclosure",' + field + ',"format":1,"index":19}')
    result = deployment.verify()
    malformed = [p for p in result.problems if p.kind == "malformed"]
    assert malformed, result.problems
    assert malformed[0].index == 19
    assert "is not a list" in malformed[0].detail


# -- low items of review8b ---------------------------------------------------------------------


def test_a_duplicated_entry_line_is_named_as_such(
    deployment: Deployment,  # noqa: F811
    export: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It was refused as "entry 20: missing: entries 20..18 are missing"."""
    crafted = _crafted(export, lambda lines: lines.append(lines[-2]))
    assert ketenpoort_verify([str(crafted), *_keys(deployment)]) == 1
    err = capsys.readouterr().err
    assert (
        "entry 18: reordered: an entry with index 18 follows entry 19: a duplicate or out of order"
        in err
    )
    assert "are missing" not in err


def test_two_witnesses_with_the_same_name_are_refused(deployment: Deployment) -> None:  # noqa: F811
    """Cosignatures are counted by name: with quorum 2 nothing was ever witnessed and the second
    witness was never asked. Refused at start, and by ketenpoort-verify, with the name."""
    from gateway.audit.witnessing import Witnessing

    twice = [deployment.witnesses[0].endpoint, deployment.witnesses[0].endpoint]
    with pytest.raises(ValueError, match="two configured witnesses have the same name"):
        Witnessing(twice, quorum=2)
    Witnessing([w.endpoint for w in deployment.witnesses], quorum=2).close()  # control
    key = deployment.witnesses[0].verifier.vkey()
    args = ["x.jsonl", "--log-key", log_verifier(deployment.log).vkey(), "--offline"]
    assert ketenpoort_verify([*args, "--witness-key", key, "--witness-key", key]) == 2
