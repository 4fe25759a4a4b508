"""A reader shown an audit entry with parts hidden cannot recover them from its leaf hash.

Some readers read an entry with parts hidden: the buurtteam, only a data owner of a request
that also asked the police, reads it as it concerns its own item (review4 F1); the
coordinating officer reads a refusal's reason that tells whether an investigation runs as
``om-consent-condition-not-met`` (review3 finding 1). Both may fetch the entry's receipt,
whose leaf hash is SHA-256(0x00 || the stored entry's canonical JSON). The hidden parts come
from small sets (three reasons, the police's few categories and clauses, small counts), so
until entries carried a salt such a reader hashed each candidate and found the stored one:
the reason, so whether the police investigate. Now every entry holds 16 random bytes
(``salt``) that only the readers who read it whole are shown; no candidate matches without
them. The controls: the requester's officer reads the entry whole, salt included, and
recomputes its leaf hash exactly; so does the coordinating officer where nothing was
rewritten."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from audit.entry import SALT_FIELD, canonical_json
from audit.merkle import leaf_hash
from gateway.context import GatewayContext
from gateway.policy.compiler import INVESTIGATION_REASONS, OM_CONDITION_UNMET
from tests.exchange.conftest import ANTECEDENTS, CASE_MANAGER, REPORTS, UtrechtCase
from tests.exchange.test_log_entries_per_data_owner import (
    BUURTTEAM,
    BUURTTEAM_OFFICER,
    COORDINATOR,
    KNOWN,
    REQUESTER_OFFICER,
    _ask_police_and_buurtteam,
)

#: Every reason a refusal of the antecedents could have been stored with.
REASONS = sorted({*INVESTIGATION_REASONS, OM_CONDITION_UNMET})


def _read_with_receipt(case: UtrechtCase, who: tuple[str, str]) -> tuple[dict[str, Any], bytes]:
    """The request's entry as ``who`` reads it in a search, and the leaf hash its receipt
    gives ``who`` (GET /v1/audit/receipts/{index})."""
    found = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": "information-request"},
        headers=case.as_(who),
    )
    assert found.status_code == 200, found.text
    [entry] = found.json()["entries"]
    receipt = case.client.get(f"/v1/audit/receipts/{entry['index']}", headers=case.as_(who))
    assert receipt.status_code == 200, receipt.text
    return entry, bytes.fromhex(receipt.json()["leafHash"])


def _matching(candidates: Iterator[dict[str, Any]], leaf: bytes) -> list[dict[str, Any]]:
    return [body for body in candidates if leaf_hash(canonical_json(body)) == leaf]


def _reasons_for_the_antecedents(view: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for reason in REASONS:
        yield {
            **view,
            "redacted": [
                {**r, "reason": reason} if r["category"] == ANTECEDENTS else r
                for r in view["redacted"]
            ],
        }


def _asked_of_the_police_too(
    view: dict[str, Any], context: GatewayContext
) -> Iterator[dict[str, Any]]:
    """What the buurtteam can guess from the covenant file: the police were (or were not)
    data owners, under some of the clauses governing the police's categories, with at most
    one of those refused for one of the reasons, and small counts of the items asked and
    denied."""
    covenant = context.covenants.get(view["processing"]["covenantId"])
    assert covenant is not None
    police = sorted(covenant.criminal_data_partners())
    kinds = {p.kind for p in covenant.partners if p.id in police}
    categories = sorted(c.id for c in covenant.categories if c.owner in kinds)
    clauses = sorted(c.id for c in covenant.clauses if set(c.categories) & set(categories))
    refusals = [[]] + [[{"category": c, "reason": r}] for c in categories for r in REASONS]
    counts = [None, *range(5)]
    for owners, cited, refused, asked, denied in itertools.product(
        [[], police],
        (s for n in range(len(clauses) + 1) for s in itertools.combinations(clauses, n)),
        refusals,
        counts,
        counts,
    ):
        attributes = dict(view["attributes"])
        for key, count in (("asked", asked), ("denied", denied)):
            if count is not None:
                attributes[key] = count
        yield {
            **view,
            "dataOwners": sorted({*view["dataOwners"], *owners}),
            "processing": {
                **view["processing"],
                "clauseIds": sorted({*view["processing"]["clauseIds"], *cited}),
            },
            "redacted": refused,
            "attributes": attributes,
        }


def test_the_coordinating_officer_cannot_confirm_the_rewritten_reason_by_the_leaf_hash(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(True)
    utrecht_case.request([ANTECEDENTS, REPORTS])
    view, leaf = _read_with_receipt(utrecht_case, COORDINATOR)
    assert [r["reason"] for r in view["redacted"]] == [OM_CONDITION_UNMET]
    assert SALT_FIELD not in view
    # Before the salt exactly one candidate matched: "om-consent-missing", an investigation.
    assert _matching(_reasons_for_the_antecedents(view), leaf) == []


def test_the_buurtteam_cannot_confirm_what_was_asked_of_the_police_by_the_leaf_hash(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    utrecht_case.investigation(True)
    _ask_police_and_buurtteam(utrecht_case)
    view, leaf = _read_with_receipt(utrecht_case, BUURTTEAM_OFFICER)
    assert view["redacted"] == []
    assert SALT_FIELD not in view
    # Before the salt one candidate matched: the police asked, the antecedents refused
    # "om-consent-missing" (an investigation runs), the counts 2 asked and 1 denied.
    assert _matching(_asked_of_the_police_too(view, context), leaf) == []


def test_the_requesters_officer_reads_the_entry_whole_and_recomputes_its_leaf_hash(
    utrecht_case: UtrechtCase,
) -> None:
    # Positive control: a party reads the entry whole, salt and reason as told included.
    utrecht_case.investigation(True)
    _ask_police_and_buurtteam(utrecht_case)
    whole, leaf = _read_with_receipt(utrecht_case, REQUESTER_OFFICER)
    assert [r["reason"] for r in whole["redacted"]] == ["om-consent-missing"]
    assert len(whole[SALT_FIELD]) == 32
    assert leaf_hash(canonical_json(whole)) == leaf


def test_the_coordinating_officer_verifies_an_entry_it_reads_as_told(
    utrecht_case: UtrechtCase,
) -> None:
    # Positive control: with no reason to rewrite (no investigation, nothing refused) the
    # coordinating officer reads the entry whole, salt included.
    utrecht_case.investigation(False)
    _ask_police_and_buurtteam(utrecht_case)
    whole, leaf = _read_with_receipt(utrecht_case, COORDINATOR)
    assert whole["redacted"] == []
    assert leaf_hash(canonical_json(whole)) == leaf


def _receipt_status(case: UtrechtCase, activity: str, who: tuple[str, str]) -> int:
    """The status of ``who``'s receipt of the case's one ``activity`` entry, found as the
    requester's officer finds it."""
    found = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": activity},
        headers=case.as_(REQUESTER_OFFICER),
    )
    [entry] = found.json()["entries"]
    return case.client.get(
        f"/v1/audit/receipts/{entry['index']}", headers=case.as_(who)
    ).status_code


def test_an_entry_from_before_salts_gives_its_receipt_only_to_its_parties(
    utrecht_case: UtrechtCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry written before salts hashes to a leaf anyone may recompute, so a reader shown
    it with parts hidden gets no receipt of it (gateway/audit/service.leaf_withheld): not by
    index, not in its request's status, not by its disclosure. The control: the requester,
    which reads it whole, gets each; and the same reads of salted entries above give the
    buurtteam and the coordinating officer their receipts."""
    with monkeypatch.context() as before_salts:
        before_salts.setattr("gateway.audit.log.new_salts", lambda count: [None] * count)
        utrecht_case.investigation(True)
        request_id = _ask_police_and_buurtteam(utrecht_case)
        known = utrecht_case.answer(
            request_id, [{"category": KNOWN, "yesNo": True}], who=(BUURTTEAM, "adapter")
        )
        assert known.status_code == 200, known.text
        read = utrecht_case.read(request_id)
    for activity in ("information-request", "disclosure"):
        assert _receipt_status(utrecht_case, activity, BUURTTEAM_OFFICER) == 404, activity
        assert _receipt_status(utrecht_case, activity, COORDINATOR) == 404, activity
        assert _receipt_status(utrecht_case, activity, REQUESTER_OFFICER) == 200, activity

    status = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}", headers=utrecht_case.as_((BUURTTEAM, "adapter"))
    )
    assert status.status_code == 200, status.text
    assert status.json().get("receipt") is None
    asked = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}", headers=utrecht_case.as_(CASE_MANAGER)
    )
    assert asked.json()["receipt"]["index"] >= 0

    disclosure = f"/v1/disclosures/{read['disclosureId']}/receipt"
    owner = utrecht_case.client.get(disclosure, headers=utrecht_case.as_(BUURTTEAM_OFFICER))
    assert owner.status_code == 404, owner.text
    recipient = utrecht_case.client.get(disclosure, headers=utrecht_case.as_(CASE_MANAGER))
    assert recipient.status_code == 200, recipient.text
