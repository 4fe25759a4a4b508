"""The reasons given to a requester never depend on a fact that requester may not see
(review2, finding 1). Whether a police investigation runs is criminal-law information
(U §5.3, AVG art. 10): the case summary shows it to the police and the case lead only
(gateway/cases/summary_readers.py), yet the policy used to explain the refusal of the
nuisance antecedents to any team member with it: a woonconsulent was told
``role-not-recipient`` alone while no investigation ran, with ``om-consent-missing`` while
one ran, and with ``investigation-status-unknown`` too while nobody had recorded it.

So a requester that a static reason refuses (its role, the purpose, the case's phase) is
told only the static reasons, whatever the case's state; a requester outside the case team
is told only that; a recipient whose relation to the case fails (not the lead, not the
landlord) is not told how the OM consent fails. Checked for every role of both covenants
(read from the covenant files), every category, the three investigation statuses, with and
without an OM consent and with the requester in and out of the team, on every engine. The
control: the recipient the clause names, in the team, is told how the consent fails.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy.bundle import build_bundle, pack, read_bundle
from gateway.policy.covenant import Covenant, default_covenant_dir, parse_covenant
from gateway.policy.schemas import PolicyInput
from tests.policy.conftest import COVENANTS, ENGINE_CLASSES, loaded_engine, require_engine
from tests.policy.test_clauses import CASE_ID, NOW

STATIC_REASONS = {"role-not-recipient", "purpose-not-allowed", "phase-not-allowed"}
OM_CONDITION = "om-consent-if-investigation"
#: Not recorded, running, not running.
STATUSES = (None, True, False)


def _om_consent(police: str, categories: list[str], *, expired: bool) -> dict[str, Any]:
    return {
        "kind": "om-consent",
        "case": CASE_ID,
        "partner": police,
        "categories": categories,
        "grantedAt": NOW - timedelta(days=60),
        "expiresAt": NOW + timedelta(days=-1 if expired else 30),
    }


def _request(
    covenant: Covenant,
    requester: tuple[str, str],
    *,
    purpose: str,
    phase: str,
    categories: list[str],
    investigation: bool | None,
    om: str,
    in_team: bool = True,
    lead: str | None = None,
) -> PolicyInput:
    """A case where every other condition holds (team, owner-occupied dwelling, every
    event recorded), so that only who asks and the investigation's facts vary. ``om``:
    "none", "expired" or "valid"."""
    partner, role = requester
    police = next(p.id for p in covenant.partners if p.kind == "police")
    others = [p.id for p in covenant.partners if p.id != partner]
    consents = [] if om == "none" else [_om_consent(police, categories, expired=om == "expired")]
    return PolicyInput.model_validate(
        {
            "requester": {"partner": partner, "role": role, "user": "pseudo-1"},
            "case": {
                "id": CASE_ID,
                "covenant": covenant.id,
                "phase": phase,
                "team": [*others, *([partner] if in_team else [])],
                "lead": lead or partner,
                "dwelling": {"ownership": "owner-occupied"},
                "policeInvestigation": investigation,
                "events": [{"kind": e.id, "partner": partner} for e in covenant.events],
            },
            "categories": categories,
            "purpose": purpose,
            "consents": consents,
            "now": NOW,
        }
    )


def _statically_refused(
    covenant: Covenant, category: str, role: str, purpose: str, phase: str
) -> bool:
    return not any(
        category in c.categories and role in c.roles and purpose in c.purposes and phase in c.phases
        for c in covenant.clauses
    )


def _requesters(covenant: Covenant) -> list[tuple[str, str]]:
    """Every role of the covenant file, asked by the first partner holding it."""
    return [
        (next(p.id for p in covenant.partners if role.id in p.roles), role.id)
        for role in covenant.roles
        if any(role.id in p.roles for p in covenant.partners)
    ]


def _terms(covenant: Covenant) -> list[tuple[str, str]]:
    """(purpose, phase) pairs under which each clause may grant its categories."""
    return sorted({(c.purposes[0], c.phases[0]) for c in covenant.clauses})


@pytest.fixture(scope="module", params=sorted(ENGINE_CLASSES))
def engine(request: pytest.FixtureRequest) -> Any:
    return loaded_engine(request.param)


@pytest.mark.parametrize("covenant_id", sorted(COVENANTS))
def test_a_statically_refused_requester_is_told_only_the_static_reasons(
    engine: Any, covenant_id: str
) -> None:
    covenant = COVENANTS[covenant_id]
    categories = [c.id for c in covenant.categories]
    seen: dict[tuple[str, str, str, str], dict[str, list[str]]] = defaultdict(dict)
    for requester in _requesters(covenant):
        for purpose, phase in _terms(covenant):
            for investigation in STATUSES:
                for om, in_team in (("none", True), ("expired", True), ("none", False)):
                    state = f"investigation={investigation} om={om} in_team={in_team}"
                    decision = engine.decide(
                        _request(
                            covenant,
                            requester,
                            purpose=purpose,
                            phase=phase,
                            categories=categories,
                            investigation=investigation,
                            om=om,
                            in_team=in_team,
                        )
                    )
                    for category, verdict in decision.categories.items():
                        if _statically_refused(covenant, category, requester[1], purpose, phase):
                            assert verdict.outcome == "redact", (category, requester, state)
                            key = (category, requester[1], purpose, phase)
                            seen[key][state] = verdict.reasons
    assert seen
    told = {key: {tuple(r) for r in by_state.values()} for key, by_state in seen.items()}
    differing = {key: sorted(reasons) for key, reasons in told.items() if len(reasons) != 1}
    assert differing == {}, "the reasons depend on the case's state"
    beyond = {k: r for k, r in told.items() for reasons in r if not set(reasons) <= STATIC_REASONS}
    assert beyond == {}, "a statically refused requester is told more than the static reasons"
    assert all(reasons for r in told.values() for reasons in r)
    # The finding's own case: the antecedents, asked by every role the clause does not name.
    om_clauses = [c for c in covenant.clauses if OM_CONDITION in c.condition_names]
    for clause in om_clauses:
        refused = {role for (category, role, *_) in seen if category in clause.categories}
        non_recipients = {role for _, role in _requesters(covenant)} - set(clause.roles)
        assert non_recipients <= refused


def _antecedents_clause() -> tuple[Covenant, Any]:
    covenant = COVENANTS["utrecht-extreme-woonoverlast"]
    clause = next(c for c in covenant.clauses if OM_CONDITION in c.condition_names)
    return covenant, clause


def test_the_recipient_is_told_how_the_om_consent_fails(engine: Any) -> None:
    """The control: the case lead in the team, the clause's recipient, asking for its purpose
    in its phase, is told whether the status is recorded and how the consent fails."""
    covenant, clause = _antecedents_clause()
    (category,) = clause.categories
    lead = next(p.id for p in covenant.partners if clause.roles[0] in p.roles)

    def verdict(investigation: bool | None, om: str) -> tuple[str, list[str]]:
        decided = engine.decide(
            _request(
                covenant,
                (lead, clause.roles[0]),
                purpose=clause.purposes[0],
                phase=clause.phases[0],
                categories=[category],
                investigation=investigation,
                om=om,
            )
        ).categories[category]
        return decided.outcome, decided.reasons

    assert verdict(True, "none") == ("redact", ["om-consent-missing"])
    assert verdict(True, "expired") == ("redact", ["om-consent-expired"])
    assert verdict(None, "none") == (
        "redact",
        ["investigation-status-unknown", "om-consent-missing"],
    )
    assert verdict(None, "expired") == (
        "redact",
        ["investigation-status-unknown", "om-consent-expired"],
    )
    assert verdict(False, "none") == ("disclose", [])
    assert verdict(True, "valid") == ("disclose", [])


@pytest.mark.parametrize("investigation", STATUSES, ids=["not-recorded", "running", "not-running"])
def test_a_recipient_outside_the_team_is_told_only_that(
    engine: Any, investigation: bool | None
) -> None:
    """A removed requester reading its answers: the decision is made again without it in the
    team, and it is told that, not the case's criminal-law facts. Control: in the team."""
    covenant, clause = _antecedents_clause()
    (category,) = clause.categories
    lead = next(p.id for p in covenant.partners if clause.roles[0] in p.roles)
    for om in ("none", "expired"):
        request = _request(
            covenant,
            (lead, clause.roles[0]),
            purpose=clause.purposes[0],
            phase=clause.phases[0],
            categories=[category],
            investigation=investigation,
            om=om,
            in_team=False,
        )
        verdict = engine.decide(request).categories[category]
        assert (verdict.outcome, verdict.reasons) == ("redact", ["not-in-case-team"])
        in_team = request.model_copy(
            update={"case": request.case.model_copy(update={"team": [*request.case.team, lead]})}
        )
        control = engine.decide(in_team).categories[category]
        if investigation is False:
            assert control.outcome == "disclose"
        else:
            assert control.reasons[-1] == f"om-consent-{'missing' if om == 'none' else 'expired'}"


# A covenant that gives the antecedents to the case lead only (a recipient bound to a
# relation): a case manager that does not hold the lead is not told of the OM consent.
_FILE = default_covenant_dir() / "utrecht-extreme-woonoverlast" / "covenant.yaml"
_ANTECEDENTS_TO = "    recipients: [casemanager]\n    categories: [police-nuisance-antecedents]\n"
_TEXT = _FILE.read_text(encoding="utf-8")
assert _TEXT.count(_ANTECEDENTS_TO) == 1, "the antecedents clause's recipients changed"
LEAD_ONLY = parse_covenant(
    _TEXT.replace(
        _ANTECEDENTS_TO,
        "    recipients:\n      - {role: casemanager, relation: case-lead}\n"
        "    categories: [police-nuisance-antecedents]\n",
    ),
    _FILE,
)
_KEY = ec.generate_private_key(ec.SECP256R1())
LEAD_ONLY_BUNDLE = read_bundle(
    pack(build_bundle({LEAD_ONLY.id: LEAD_ONLY}, _KEY)), _KEY.public_key()
)


@pytest.fixture(scope="module", params=sorted(ENGINE_CLASSES))
def lead_only_engine(request: pytest.FixtureRequest) -> Any:
    require_engine(request.param)
    loaded = ENGINE_CLASSES[request.param]()
    loaded.load(LEAD_ONLY_BUNDLE)
    return loaded


def test_a_recipient_without_its_relation_is_not_told_of_the_om_consent(
    lead_only_engine: Any,
) -> None:
    clause = next(c for c in LEAD_ONLY.clauses if OM_CONDITION in c.condition_names)
    (category,) = clause.categories
    manager = next(p.id for p in LEAD_ONLY.partners if "casemanager" in p.roles)
    police = next(p.id for p in LEAD_ONLY.partners if p.kind == "police")

    def reasons(investigation: bool | None, lead: str) -> list[str]:
        request = _request(
            LEAD_ONLY,
            (manager, "casemanager"),
            purpose=clause.purposes[0],
            phase=clause.phases[0],
            categories=[category],
            investigation=investigation,
            om="none",
            lead=lead,
        )
        return lead_only_engine.decide(request).categories[category].reasons  # type: ignore[no-any-return]

    assert [reasons(status, police) for status in STATUSES] == [["not-case-lead"]] * 3
    # Control: the lead is told.
    assert reasons(True, manager) == ["om-consent-missing"]
    assert reasons(None, manager) == ["investigation-status-unknown", "om-consent-missing"]
    assert reasons(False, manager) == []
