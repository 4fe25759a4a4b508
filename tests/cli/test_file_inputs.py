"""Every command that reads a file answers a missing, empty-object or garbage file with a
readable error (what the file should be, every validation problem as a list), never a
traceback; and the shipped example of ``policy explain`` is a valid input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from adapters.cli import app as adapter_app
from gateway.cli import app
from gateway.policy.cli import example_input

ROOT = Path(__file__).resolve().parents[2]


def _invoke(args: list[str], cwd: Path, *, adapter: bool = False) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    env["KETENPOORT_DATA_DIR"] = str(cwd / "data")
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(adapter_app if adapter else app, args, env=env)
    finally:
        os.chdir(previous)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "empty.json").write_text("{}")
    (tmp_path / "garbage.txt").write_text("not json at all\n")
    (tmp_path / "list.json").write_text("[1, 2]")
    return tmp_path


def _readable(result: Result) -> str:
    """The command stopped on purpose (SystemExit, non-zero) and said so (``error: ...``,
    or the adapters' ``cannot run: ...``)."""
    assert isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert "error" in result.output or "cannot run" in result.output, result.output
    return result.output


def test_policy_explain_lists_every_problem_of_an_empty_input(files: Path) -> None:
    said = _readable(_invoke(["policy", "explain", "--input", "empty.json"], files))
    assert "empty.json is not a policy input (5 problems)" in said
    for field in ("requester", "case", "categories", "purpose", "now"):
        assert f"  - {field}: Field required" in said
    assert "explain-om-consent-missing.json" in said  # where a valid one is


def test_policy_explain_names_nested_fields_and_never_echoes_the_input(files: Path) -> None:
    (files / "bad.json").write_text(
        '{"requester": {"partner": 3, "role": "x", "user": "111222333"}, "case": [],'
        ' "categories": "x", "purpose": "p", "now": "yesterday"}'
    )
    said = _readable(_invoke(["policy", "explain", "--input", "bad.json"], files))
    assert "  - requester.partner: Input should be a valid string" in said
    assert "  - case: " in said
    assert "  - now: " in said
    assert "111222333" not in said  # an input may hold personal data: never repeated


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("garbage.txt", "garbage.txt is not JSON (expected a policy input)"),
        ("missing.json", "missing.json: no such file (expected a policy input)"),
        ("list.json", "list.json is not a policy input (1 problem)"),
    ],
)
def test_policy_explain_refuses_what_is_not_a_policy_input(
    files: Path, name: str, expected: str
) -> None:
    said = _readable(_invoke(["policy", "explain", "--input", name], files))
    assert expected in said


def test_the_shipped_example_explains_a_refusal_in_words_then_code(tmp_path: Path) -> None:
    """Positive control: the documented example is valid and decides as it says."""
    assert example_input().is_file()
    result = _invoke(["policy", "explain", "--input", str(example_input())], tmp_path)
    assert result.exit_code == 0, result.output
    assert (
        "police-nuisance-antecedents: redact (none) - an investigation is running and the OM "
        "has not consented (om-consent-missing)"
    ) in result.output
    assert "police-physical-violence: disclose (yes-no) - under U-5.3-geweld" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["policy", "build", "--covenant", "empty.json", "--out", "o"], "id: Field required"),
        (["policy", "build", "--covenant", "missing.yaml", "--out", "o"], "cannot read"),
        (["policy", "explain", "--input", "empty.json", "--bundle", "garbage.txt"], "is not"),
        (["partners", "register", "--partner", "mitros", "empty.json"], "not a JWKS"),
        (["partners", "register", "--partner", "mitros", "garbage.txt"], "not JSON"),
        (["partners", "register", "--partner", "mitros", "missing.json"], "no such file"),
        (
            [
                "partners",
                "token",
                "--partner",
                "mitros",
                "--role",
                "adapter",
                "--key-file",
                "garbage.txt",
            ],
            "cannot use garbage.txt",
        ),  # fmt: skip
        (["audit", "verify", "--log-key", "garbage.txt"], "verifier key"),
        (["audit", "verify", "--public-key", "missing.pem"], "cannot read missing.pem"),
        (["audit", "verify", "--public-key", "garbage.txt"], "is not a public key"),
        (["audit", "verify", "--offline", "--export", "empty.json"], "not a Ketenpoort audit"),
        (["audit", "verify", "--offline", "--export", "garbage.txt"], "cannot read"),
        (["witness", "serve", "--dir", "garbage.txt", "--log", "x"], "not a witness directory"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_commands_that_read_a_file_refuse_a_bad_one_readably(
    files: Path, args: list[str], expected: str
) -> None:
    assert expected in _readable(_invoke(args, files))


@pytest.mark.parametrize("key", ["garbage.txt", "empty.json"])
def test_an_adapter_with_a_key_file_that_is_no_key_says_so(files: Path, key: str) -> None:
    args = ["police", "--export", "empty.json", "--gateway", "http://127.0.0.1:9", "--key", key]
    said = _readable(_invoke(args, files, adapter=True))
    assert f"{key} is not a usable private key" in said
