"""Behaviour of the policy decision point through decide(), on the real covenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy.bundle import build_bundle, pack, read_bundle
from gateway.policy.covenant import load_covenants, parse_covenant
from gateway.policy.engine import RegopyEngine, RegorusEngine
from gateway.policy.errors import BundleError, CovenantError
from gateway.policy.opa_server import OpaServerEngine
from gateway.policy.schemas import PolicyInput

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = ec.generate_private_key(ec.SECP256R1())
BUNDLE = build_bundle(load_covenants(), KEY)


@pytest.fixture(scope="module")
def engine() -> RegorusEngine:
    e = RegorusEngine()
    e.load(BUNDLE)
    return e


def utrecht_request(**changes: Any) -> PolicyInput:
    doc: dict[str, Any] = {
        "requester": {"partner": "u-centraal", "role": "casemanager", "user": "pseudo-1"},
        "case": {
            "id": "case-1",
            "covenant": "utrecht-extreme-woonoverlast",
            "phase": "execution",
            "team": ["u-centraal", "politie-midden-nederland", "mitros"],
            "lead": "u-centraal",
            "dwelling": {"ownership": "corporation", "corporation": "mitros"},
            "policeInvestigation": False,
            # The landlord started an eviction procedure (U §5.3, the sfeerverslag).
            "events": [{"kind": "eviction-procedure", "partner": "mitros"}],
        },
        "categories": ["police-nuisance-antecedents"],
        "purpose": "case-handling",
        "consents": [
            {
                "kind": "corporation-permission",
                "case": "case-1",
                "partner": "mitros",
                "grantedAt": NOW - timedelta(days=10),
            }
        ],
        "now": NOW,
    }
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        target[last] = value
    return PolicyInput.model_validate(doc)


def om_consent(expires: datetime) -> dict[str, Any]:
    return {
        "kind": "om-consent",
        "case": "case-1",
        "partner": "politie-midden-nederland",
        "categories": ["police-nuisance-antecedents"],
        "grantedAt": NOW - timedelta(days=1),
        "expiresAt": expires,
    }


def outcome(engine: RegorusEngine, request: PolicyInput, category: str) -> tuple[str, list[str]]:
    d = engine.decide(request).categories[category]
    return d.outcome, d.reasons


def test_police_antecedents_withheld_while_investigation_runs_without_om_consent(
    engine: RegorusEngine,
) -> None:
    request = utrecht_request(case__policeInvestigation=True)
    assert outcome(engine, request, "police-nuisance-antecedents") == (
        "redact",
        ["om-consent-missing"],
    )


def test_police_antecedents_disclosed_once_om_consent_recorded_then_withheld_after_expiry(
    engine: RegorusEngine,
) -> None:
    base = utrecht_request(case__policeInvestigation=True).model_dump(by_alias=True)
    consent = om_consent(NOW + timedelta(days=30))
    with_consent = PolicyInput.model_validate({**base, "consents": [*base["consents"], consent]})
    decision = engine.decide(with_consent)
    assert decision.allow
    assert decision.categories["police-nuisance-antecedents"].outcome == "disclose"
    assert decision.clauses == ["U-5.3-antecedenten"]
    expired = PolicyInput.model_validate(
        {**with_consent.model_dump(by_alias=True), "now": NOW + timedelta(days=31)}
    )
    assert outcome(engine, expired, "police-nuisance-antecedents") == (
        "redact",
        ["om-consent-expired"],
    )


def test_police_antecedents_disclosed_without_consent_when_no_investigation_runs(
    engine: RegorusEngine,
) -> None:
    assert outcome(engine, utrecht_request(), "police-nuisance-antecedents")[0] == "disclose"


def test_requester_outside_the_case_team_gets_nothing(engine: RegorusEngine) -> None:
    request = utrecht_request(
        case__team=["politie-midden-nederland"],
        categories=["police-reports", "police-physical-violence"],
    )
    decision = engine.decide(request)
    assert not decision.allow
    assert decision.disclosed() == []
    assert all(d.reasons == ["not-in-case-team"] for d in decision.categories.values())


def test_purpose_not_in_the_clause_is_denied(engine: RegorusEngine) -> None:
    request = utrecht_request(purpose="eviction-procedure", categories=["police-reports"])
    assert outcome(engine, request, "police-reports") == ("redact", ["purpose-not-allowed"])


def test_sfeerverslag_only_for_the_eviction_procedure(engine: RegorusEngine) -> None:
    for purpose, expected in (("eviction-procedure", "disclose"), ("case-handling", "redact")):
        request = utrecht_request(purpose=purpose, categories=["police-atmosphere-report"])
        assert outcome(engine, request, "police-atmosphere-report")[0] == expected


def test_whether_categories_come_back_as_yes_no(engine: RegorusEngine) -> None:
    request = utrecht_request(
        categories=["police-physical-violence", "police-serious-intimidation", "police-reports"]
    )
    decision = engine.decide(request)
    assert decision.categories["police-physical-violence"].answer == "yes-no"
    assert decision.categories["police-serious-intimidation"].answer == "yes-no"
    assert decision.categories["police-reports"].answer == "detail"


def test_corporation_dwelling_without_permission_shares_nothing(engine: RegorusEngine) -> None:
    request = utrecht_request(consents=[], categories=["police-reports"])
    assert outcome(engine, request, "police-reports") == (
        "redact",
        ["corporation-permission-missing"],
    )


def test_decision_names_bundle_revision_and_a_decision_id(engine: RegorusEngine) -> None:
    decision = engine.decide(utrecht_request())
    assert decision.bundle_revision == BUNDLE.revision
    assert decision.decision_id


def test_rijswijk_police_registrations_for_dossier_building(engine: RegorusEngine) -> None:
    request = PolicyInput.model_validate(
        {
            "requester": {"partner": "gemeente-rijswijk", "role": "casemanager", "user": "p"},
            "case": {
                "id": "r-1",
                "covenant": "rijswijk-woonoverlast",
                "phase": "integrated-approach",
                "team": ["gemeente-rijswijk", "politie-den-haag"],
                "dwelling": {"ownership": "owner-occupied"},
                "policeInvestigation": False,
            },
            "categories": ["police-registrations"],
            "purpose": "dossier-building",
            "now": NOW,
        }
    )
    decision = engine.decide(request)
    assert decision.clauses == ["R-A-politie-registraties"]


@pytest.mark.parametrize(
    ("dwelling", "woonconsulent_of", "expected"),
    [
        # The dwelling's landlord builds its dossier against its tenant: it receives them.
        ({"ownership": "corporation", "corporation": "vidomes"}, "vidomes", "disclose"),
        # Another corporation in the team (the complainant's landlord, say) does not.
        ({"ownership": "corporation", "corporation": "vidomes"}, "rijswijk-wonen", "redact"),
        # Nor does any corporation for an owner-occupied dwelling.
        ({"ownership": "owner-occupied"}, "vidomes", "redact"),
    ],
)
@pytest.mark.parametrize(
    ("category", "purpose", "phase"),
    [
        ("police-registrations", "dossier-building", "integrated-approach"),
        ("police-administrative-report", "dossier-building", "integrated-approach"),
    ],
)
def test_rijswijk_police_registrations_reach_only_the_dwellings_landlord_among_corporations(
    engine: RegorusEngine,
    dwelling: dict[str, str],
    woonconsulent_of: str,
    expected: str,
    category: str,
    purpose: str,
    phase: str,
) -> None:
    """R Bijlage A: "de dossieropbouw van de gemeente of woningbouwcorporatie(s)"."""
    request = PolicyInput.model_validate(
        {
            "requester": {"partner": woonconsulent_of, "role": "woonconsulent", "user": "w"},
            "case": {
                "id": "r-1",
                "covenant": "rijswijk-woonoverlast",
                "phase": phase,
                "team": ["gemeente-rijswijk", "politie-den-haag", "vidomes", "rijswijk-wonen"],
                "lead": "gemeente-rijswijk",
                "dwelling": dwelling,
                "policeInvestigation": False,
            },
            "categories": [category],
            "purpose": purpose,
            "consents": [
                {
                    "kind": "corporation-permission",
                    "case": "r-1",
                    "partner": "vidomes",
                    "grantedAt": NOW - timedelta(days=10),
                }
            ],
            "now": NOW,
        }
    )
    verdict = engine.decide(request).categories[category]
    assert verdict.outcome == expected, verdict.reasons
    if expected == "redact":
        assert verdict.reasons == ["not-dwelling-landlord"]


# --- fail closed --------------------------------------------------------------------------


def test_engine_without_bundle_denies() -> None:
    decision = RegorusEngine().decide(utrecht_request())
    assert not decision.allow
    assert decision.errors == ["no-policy-loaded"]


def test_opa_server_error_denies() -> None:
    def broken(_: dict[str, Any]) -> Any:
        raise ConnectionError("down")

    engine = OpaServerEngine("http://opa:8181", query=broken)
    engine.load(BUNDLE)
    decision = engine.decide(utrecht_request())
    assert not decision.allow
    assert decision.errors == ["engine-error"]


def test_opa_server_undefined_result_denies() -> None:
    engine = OpaServerEngine("http://opa:8181", query=lambda _: {})
    engine.load(BUNDLE)
    assert engine.decide(utrecht_request()).errors == ["undefined-result"]


def test_opa_server_result_is_used(engine: RegorusEngine) -> None:
    request = utrecht_request()
    # Decided on this thread: the query runs on the OPA client's pool thread, and a regorus
    # VM must stay on the thread that made it.
    answer = {"result": engine._evaluate(request.document())}

    def via_regorus(document: dict[str, Any]) -> Any:
        assert document == request.document()
        return answer

    opa = OpaServerEngine("http://opa:8181", query=via_regorus)
    opa.load(BUNDLE)
    assert opa.decide(request).allow


# --- bundles and covenants ----------------------------------------------------------------


def test_tampered_bundle_is_refused_and_previous_policy_stays() -> None:
    engine = RegorusEngine()
    good = read_bundle(pack(BUNDLE), KEY.public_key())
    engine.load(good)
    files = dict(BUNDLE.files)
    files["data.json"] = files["data.json"].replace(b'"case-team"', b'"casex-team"', 1)
    tampered = type(BUNDLE)(BUNDLE.revision, BUNDLE.modules, BUNDLE.data, files)
    with pytest.raises(BundleError, match="modified after signing"):
        read_bundle(pack(tampered), KEY.public_key())
    assert engine.revision == good.revision
    assert engine.decide(utrecht_request()).allow


def test_bundle_signed_by_another_key_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(BundleError, match="signature"):
        read_bundle(pack(BUNDLE), other.public_key())


@pytest.mark.parametrize(
    ("mutation", "problem"),
    [
        (("purposes: [intake-assessment, case-handling]", "purposes: [nope]"), "unknown purpose"),
        (("provider: police\n", "provider: policee\n"), "unknown partner kind"),
        (("  - id: mitros\n", "  - id: portaal\n"), "duplicate partners id"),
    ],
)
def test_broken_covenant_names_file_line_and_problem(
    mutation: tuple[str, str], problem: str
) -> None:
    path = Path("policies/utrecht-extreme-woonoverlast/covenant.yaml")
    text = path.read_text().replace(*mutation, 1)
    with pytest.raises(CovenantError) as caught:
        parse_covenant(text, path)
    assert problem in caught.value.detail
    assert caught.value.line is not None


def test_unused_category_is_an_error() -> None:
    path = Path("policies/rijswijk-woonoverlast/covenant.yaml")
    text = path.read_text().replace("categories: [fire-safety-findings]", "categories: []")
    with pytest.raises(CovenantError, match="no categories|used by no clause"):
        parse_covenant(text, path)


# --- differential ---------------------------------------------------------------------------


def _summary(decision: Any) -> Any:
    return (
        decision.allow,
        decision.clauses,
        {c: (d.outcome, d.answer, d.clauses) for c, d in decision.categories.items()},
    )


def test_regorus_and_regopy_agree_on_every_outcome(engine: RegorusEngine) -> None:
    other = RegopyEngine()
    other.load(BUNDLE)
    requests = [
        utrecht_request(),
        utrecht_request(case__policeInvestigation=True),
        utrecht_request(case__team=["mitros"]),
        utrecht_request(purpose="eviction-procedure", categories=["police-atmosphere-report"]),
        utrecht_request(categories=["police-physical-violence", "bogus"]),
        utrecht_request(consents=[]),
    ]
    for request in requests:
        assert _summary(engine.decide(request)) == _summary(other.decide(request))


def test_regorus_and_regopy_agree_on_redaction_reasons(engine: RegorusEngine) -> None:
    other = RegopyEngine()
    other.load(BUNDLE)
    request = utrecht_request(case__policeInvestigation=True)
    assert engine.decide(request).categories == other.decide(request).categories


# --- engine internals that the hot path relies on ------------------------------------------


def test_decision_assembled_without_validation_equals_a_validated_one(
    engine: RegorusEngine,
) -> None:
    decision = engine.decide(utrecht_request(categories=["police-reports", "bogus"]))
    validated = type(decision).model_validate(decision.model_dump())
    assert decision == validated
    assert decision.model_dump() == validated.model_dump()
    assert decision.model_dump_json() == validated.model_dump_json()
    assert decision.model_fields_set == validated.model_fields_set


def test_decision_ids_are_distinct_random_uuid4s() -> None:
    import uuid

    from gateway.policy.schemas import new_decision_id

    ids = [new_decision_id() for _ in range(1000)]  # more than one batch of os.urandom
    assert len(set(ids)) == len(ids)
    for decision_id in ids:
        parsed = uuid.UUID(decision_id)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == decision_id
    # The variant digit keeps its two random bits: all four values occur in 1,000 ids
    # (each is missing with probability (3/4)^1000).
    assert {decision_id[19] for decision_id in ids} == set("89ab")


def test_each_thread_gets_its_own_engine(engine: RegorusEngine) -> None:
    import threading

    results: list[bool] = []

    def decide() -> None:
        results.append(engine.decide(utrecht_request()).allow)

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4


# --- CLI ------------------------------------------------------------------------------------


def test_policy_build_writes_only_the_bundle_and_public_key_gives_the_key_opa_verifies_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`policy build` writes the bundle alone (its volume holds no key an attacker of that
    volume could replace, OPA path review M1); `policy public-key` prints, or writes, the
    key that verifies it, once, at install."""
    import json

    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from typer.testing import CliRunner

    from gateway.policy.cli import app

    monkeypatch.setenv("KETENPOORT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "bundles")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "bundles").iterdir()) == ["bundle.tar.gz"]
    printed = CliRunner().invoke(app, ["public-key"])
    assert printed.exit_code == 0, printed.output
    public = load_pem_public_key(printed.stdout.encode())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    bundle = read_bundle((tmp_path / "bundles" / "bundle.tar.gz").read_bytes(), public)
    token = json.loads(bundle.files[".signatures.json"])["signatures"][0]
    # docker-compose.yml runs OPA with --verification-key-id=ketenpoort
    assert jwt.get_unverified_header(token)["kid"] == "ketenpoort"
    written = CliRunner().invoke(app, ["public-key", "--out", str(tmp_path / "opa" / "k.pem")])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "opa" / "k.pem").read_text() == printed.stdout
    # Another data directory, another signing key: its key does not verify this bundle.
    monkeypatch.setenv("KETENPOORT_DATA_DIR", str(tmp_path / "other"))
    other = load_pem_public_key(CliRunner().invoke(app, ["public-key"]).stdout.encode())
    assert isinstance(other, ec.EllipticCurvePublicKey)
    with pytest.raises(BundleError, match="does not verify"):
        read_bundle((tmp_path / "bundles" / "bundle.tar.gz").read_bytes(), other)


def test_policy_explain_uses_the_bundle_the_gateway_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from gateway.policy.bundle import gateway_bundle
    from gateway.policy.cli import app

    monkeypatch.setenv("KETENPOORT_DATA_DIR", str(tmp_path))
    request_file = tmp_path / "request.json"
    request_file.write_text(utrecht_request(case__policeInvestigation=True).model_dump_json())
    result = CliRunner().invoke(app, ["explain", "--input", str(request_file)])
    assert result.exit_code == 0, result.output
    assert f"revision: {gateway_bundle(None, tmp_path).revision}" in result.output
    assert (
        "police-nuisance-antecedents: redact (none) - an investigation is running and the OM "
        "has not consented (om-consent-missing)"
    ) in result.output
