"""The gateway reads the engine's answer strictly (review6a, finding 1).

An answer that is not one the policy can give on the loaded bundle (a key more or less,
``allow`` not a boolean or not whether something is disclosed, request errors with a
disclosure, a disclosure in another answer form than the covenant's, or without the clause
ids that grant the category in the covenant, ...) denies every category as
``inconsistent-result``: an engine failure (a 503 in the exchange, tests/exchange/
test_engine_answers_checked.py), never a disclosure.

Each mutation takes the real answer of an engine for a request (the police's reports in
detail and whether there was violence, yes or no) and changes one thing in it, as an engine
defect, a version skew or a wrong bundle under the right revision label could. It is fed to
each engine's own ``decide`` (every engine shares the check) and to the OPA server engine
(its injectable query). The positive controls: the engines' real answers, unchanged, still
disclose; an invalid request's real answer (request errors, nothing disclosed) is still the
covenant's refusal, not an engine failure.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest

from gateway.exchange.enforcement import answer_form, governing_clauses
from gateway.policy.engine import (
    ENGINE_FAILURES,
    CategoryContract,
    answer_contract,
)
from gateway.policy.opa_server import OpaServerEngine
from gateway.policy.schemas import Decision, PolicyInput
from tests.policy.conftest import BUNDLE, COVENANTS, ENGINE_CLASSES, loaded_engine
from tests.policy.test_decisions import utrecht_request

REPORTS, VIOLENCE = "police-reports", "police-physical-violence"
REQUEST = utrecht_request(categories=[REPORTS, VIOLENCE])
#: The same request by a partner the covenant does not know: request errors, nothing
#: disclosed.
INVALID = utrecht_request(categories=[REPORTS, VIOLENCE], requester__partner="nobody")
#: A request only redacted: the reports asked for a purpose no clause allows.
REFUSED = utrecht_request(categories=[REPORTS], purpose="no-such-purpose")

Answer = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Answer], None]:
    def change(answer: Answer) -> None:
        *parents, last = path.split("/")
        target = answer
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def _drop(path: str) -> Callable[[Answer], None]:
    def change(answer: Answer) -> None:
        *parents, last = path.split("/")
        target = answer
        for key in parents:
            target = target[key]
        del target[last]

    return change


def _both(*changes: Callable[[Answer], None]) -> Callable[[Answer], None]:
    def change(answer: Answer) -> None:
        for one in changes:
            one(answer)

    return change


R = f"categories/{REPORTS}"
V = f"categories/{VIOLENCE}"
#: Each change makes an answer of the police-reports/violence request inconsistent.
MUTATIONS: dict[str, Callable[[Answer], None]] = {
    "allow-as-string": _set("allow", "true"),
    "allow-as-number": _set("allow", 1),
    "allow-false-yet-disclosed": _set("allow", False),
    "allow-missing": _drop("allow"),
    "errors-yet-disclosed": _set("errors", ["unknown-partner"]),
    "errors-missing": _drop("errors"),
    "disclosed-answer-none": _set(f"{R}/answer", "none"),
    "detail-for-a-yes-no-category": _set(f"{V}/answer", "detail"),
    "yes-no-for-a-detail-category": _set(f"{R}/answer", "yes-no"),
    "answer-unknown": _set(f"{R}/answer", "everything"),
    "disclosed-without-clause": _both(_set(f"{R}/clauses", []), _set("clauses", ["U-5.3-geweld"])),
    "disclosed-under-an-unknown-clause": _both(
        _set(f"{R}/clauses", ["NO-SUCH-CLAUSE"]),
        _set("clauses", ["NO-SUCH-CLAUSE", "U-5.3-geweld"]),
    ),
    "disclosed-under-another-categorys-clause": _both(
        _set(f"{R}/clauses", ["U-5.3-geweld"]), _set("clauses", ["U-5.3-geweld"])
    ),
    "disclosed-under-another-covenants-clause": _set(f"{R}/clauses", ["R-A-politie-registraties"]),
    "clause-ids-not-strings": _set(f"{R}/clauses", [1, None]),
    "clause-id-unhashable": _set(f"{R}/clauses", [["U-5.3-meldingen"]]),
    "clauses-not-a-list": _set(f"{R}/clauses", "U-5.3-meldingen"),
    "disclosed-with-reasons": _set(f"{R}/reasons", ["role-not-recipient"]),
    "outcome-unknown": _set(f"{R}/outcome", "maybe"),
    "top-clauses-missing-one": _set("clauses", ["U-5.3-geweld"]),
    "top-clauses-one-more": _set(
        "clauses", ["U-5.3-geweld", "U-5.3-intimidatie", "U-5.3-meldingen"]
    ),
    "extra-field-in-the-decision": _set("unexpected", True),
    "extra-field-in-a-verdict": _set(f"{R}/extra", "field"),
    "verdict-field-missing": _drop(f"{R}/reasons"),
    "verdict-not-an-object": _set(R, "disclose"),
    "categories-not-an-object": _set("categories", [REPORTS, VIOLENCE]),
    "another-revision": _set("revision", "another-revision"),
    "revision-missing": _drop("revision"),
}

#: Each change makes an answer of the redacted-only request (REFUSED) inconsistent.
REFUSAL_MUTATIONS: dict[str, Callable[[Answer], None]] = {
    "allow-true-yet-nothing-disclosed": _set("allow", True),
    "redacted-with-an-answer-form": _set(f"{R}/answer", "detail"),
    "redacted-with-clauses": _set(f"{R}/clauses", ["U-5.3-meldingen"]),
    "redacted-without-reason": _set(f"{R}/reasons", []),
    "reasons-not-strings": _set(f"{R}/reasons", [7]),
    "errors-not-strings": _set("errors", [7]),
    "errors-not-a-request-error": _set("errors", ["om-consent-missing"]),
    # Reasons the policy cannot give this request (review7a F1): the case's state to an
    # invalid request, another error than the request's.
    "reasons-of-the-cases-state": _set(f"{R}/reasons", ["corporation-permission-missing"]),
    "reasons-another-error": _set(f"{R}/reasons", ["unknown-partner"]),
}


def _real_answer(engine_name: str, request: PolicyInput) -> Answer:
    answer = loaded_engine(engine_name)._evaluate(request.document())
    assert isinstance(answer, dict)
    return answer


def _fails_closed(decision: Decision, reason: str = "inconsistent-result") -> bool:
    return (
        decision.errors == [reason]
        and not decision.allow
        and not decision.disclosed()
        and decision.clauses == []
        and all(
            (v.outcome, v.answer, v.clauses, v.reasons) == ("redact", "none", [], [reason])
            for v in decision.categories.values()
        )
    )


def _decided_with(
    engine_name: str, answer: Answer, request: PolicyInput, monkeypatch: pytest.MonkeyPatch
) -> Decision:
    """``engine_name``'s own decide(), its engine answering ``answer``."""
    engine = loaded_engine(engine_name)
    monkeypatch.setattr(engine, "_evaluate", lambda _document: copy.deepcopy(answer))
    decision: Decision = engine.decide(request)
    return decision


def _opa(answer: Answer) -> OpaServerEngine:
    engine = OpaServerEngine("http://unused", query=lambda _document: {"result": answer})
    engine.load(BUNDLE)
    return engine


ENGINES = sorted(ENGINE_CLASSES)


# --- positive controls ---------------------------------------------------------------------


@pytest.mark.parametrize("engine_name", ENGINES)
def test_each_engines_real_answer_still_discloses(
    engine_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = _real_answer(engine_name, REQUEST)
    for decision in (
        loaded_engine(engine_name).decide(REQUEST),
        _decided_with(engine_name, answer, REQUEST, monkeypatch),
        _opa(answer).decide(REQUEST),
    ):
        assert decision.errors == []
        assert decision.allow is True
        shown = {c: (v.outcome, v.answer, v.clauses) for c, v in decision.categories.items()}
        assert shown == {
            REPORTS: ("disclose", "detail", ["U-5.3-meldingen"]),
            VIOLENCE: ("disclose", "yes-no", ["U-5.3-geweld"]),
        }
        assert decision.clauses == ["U-5.3-geweld", "U-5.3-meldingen"]


@pytest.mark.parametrize("engine_name", ENGINES)
def test_each_engines_real_refusals_are_the_covenants(engine_name: str) -> None:
    """An invalid request and a refused one: the policy's reasons, not an engine failure."""
    invalid = loaded_engine(engine_name).decide(INVALID)
    assert invalid.errors == ["unknown-partner"]
    assert not invalid.allow
    assert not invalid.disclosed()
    assert _opa(_real_answer(engine_name, INVALID)).decide(INVALID).errors == ["unknown-partner"]
    refused = loaded_engine(engine_name).decide(REFUSED)
    assert refused.errors == ["unknown-purpose"]
    assert not ENGINE_FAILURES.intersection(refused.categories[REPORTS].reasons)


def test_the_contract_is_the_covenants() -> None:
    """The lookup sets made at load, per plan: each disclosure a plan can give is in the
    covenant's answer form for the category and under clauses that name it in the covenant
    (gateway/exchange/enforcement.py reads the covenant the same way)."""
    contract = answer_contract(BUNDLE)
    assert set(contract) == set(COVENANTS)
    for covenant_id, covenant in COVENANTS.items():
        for plan in contract[covenant_id].plans.values():
            for category, granted in plan.items():
                for form, ids in granted.disclosures:
                    assert form == answer_form(covenant, category)
                    assert ids
                    assert set(ids) <= set(governing_clauses(covenant, category))
    utrecht = contract["utrecht-extreme-woonoverlast"]
    plan = utrecht.plans["casemanager|case-handling|execution"]
    assert plan[REPORTS].disclosures == {("detail", ("U-5.3-meldingen",)): ("case-team",)}
    # No clause names the corporation's woonconsulent for the police's reports.
    corporation = utrecht.plans.get("woonconsulent|case-handling|execution", {})
    assert not corporation.get(REPORTS, _NO_CONTRACT).disclosures


_NO_CONTRACT = CategoryContract({}, frozenset())


# --- inconsistent answers deny -------------------------------------------------------------


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_an_inconsistent_answer_discloses_nothing(
    engine_name: str, mutation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = _real_answer(engine_name, REQUEST)
    MUTATIONS[mutation](answer)
    assert _fails_closed(_decided_with(engine_name, answer, REQUEST, monkeypatch)), mutation
    # The OPA server engine refuses an answer of another revision before reading it (a stale
    # bundle: engine-error, tests/policy/test_opa_client.py).
    by_opa = "engine-error" if "revision" in mutation else "inconsistent-result"
    assert _fails_closed(_opa(answer).decide(REQUEST), by_opa), mutation


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("mutation", sorted(REFUSAL_MUTATIONS))
def test_an_inconsistent_refusal_is_an_engine_failure(
    engine_name: str, mutation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = _real_answer(engine_name, REFUSED)
    assert _decided_with(engine_name, answer, REFUSED, monkeypatch).errors == ["unknown-purpose"]
    REFUSAL_MUTATIONS[mutation](answer)
    assert _fails_closed(_decided_with(engine_name, answer, REFUSED, monkeypatch)), mutation


def test_a_disclosure_on_a_case_of_a_covenant_the_bundle_lacks_is_refused() -> None:
    """The answer names the clauses of the case's covenant, but the gateway's bundle has no
    such covenant: nothing can be granted by it."""
    request = utrecht_request(categories=[REPORTS, VIOLENCE], case__covenant="elsewhere")
    assert _fails_closed(_opa(_real_answer("regorus", REQUEST)).decide(request))


def test_an_inconsistent_answer_is_logged_as_an_engine_failure_without_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = _real_answer("regorus", REQUEST)
    answer["categories"][REPORTS]["clauses"] = ["SECRET-LOOKING-VALUE"]
    with caplog.at_level(logging.WARNING, logger="gateway.policy"):
        decision = _opa(answer).decide(REQUEST)
    [record] = [r for r in caplog.records if r.getMessage() == "policy decision failed closed"]
    assert record.reason == "inconsistent-result"  # type: ignore[attr-defined]
    assert record.problem == "a disclosure the policy does not give this request"  # type: ignore[attr-defined]
    assert record.decision_id == decision.decision_id  # type: ignore[attr-defined]
    assert "SECRET-LOOKING-VALUE" not in caplog.text
    assert "inconsistent-result" in ENGINE_FAILURES


# --- an answer for another request (review7a, finding 1) -----------------------------------

#: Mitros' woonconsulent asking for the police's reports: no clause names the role for them.
CORPORATION = utrecht_request(
    categories=[REPORTS, VIOLENCE], requester__partner="mitros", requester__role="woonconsulent"
)
#: The case manager's request on a case whose team no longer holds its partner: same plan,
#: but the clauses are bound to the case team.
OUTSIDE_THE_TEAM = utrecht_request(
    categories=[REPORTS, VIOLENCE], case__team=["politie-midden-nederland", "mitros"]
)
#: The case manager's request for a purpose the covenant knows but no clause allows for the
#: reports (no plan for its role, purpose and phase, or none naming the category).
OTHER_PURPOSE = utrecht_request(categories=[REPORTS, VIOLENCE], purpose="aftercare")


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize(
    "request_", [CORPORATION, OUTSIDE_THE_TEAM, OTHER_PURPOSE], ids=["role", "team", "purpose"]
)
def test_the_case_managers_answer_to_another_request_discloses_nothing(
    engine_name: str, request_: PolicyInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case manager's real answer (it discloses), given as the answer to a request the
    policy refuses both categories (a cache or version defect, a wrong bundle under the right
    revision label): an engine failure on every engine, nothing disclosed."""
    honest = loaded_engine(engine_name).decide(request_)
    assert not honest.allow
    assert not honest.disclosed()
    assert not ENGINE_FAILURES.intersection(honest.categories[REPORTS].reasons)
    swapped = _real_answer(engine_name, REQUEST)
    assert _fails_closed(_decided_with(engine_name, swapped, request_, monkeypatch))
    assert _fails_closed(_opa(swapped).decide(request_))


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_refusal_with_reasons_of_another_request_is_an_engine_failure(
    engine_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The woonconsulent's real refusal, its reasons swapped for the case's state (told to a
    requester no clause names): refused. Its real refusal is the covenant's (control)."""
    answer = _real_answer(engine_name, CORPORATION)
    control = _decided_with(engine_name, answer, CORPORATION, monkeypatch)
    assert control.categories[REPORTS].reasons == ["role-not-recipient"]
    answer["categories"][REPORTS]["reasons"] = ["corporation-permission-missing"]
    assert _fails_closed(_decided_with(engine_name, answer, CORPORATION, monkeypatch))
