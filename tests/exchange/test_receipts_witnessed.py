"""Receipts inside disclosure responses never claim more than is true: ``witnessed`` is true
only when a checkpoint with valid cosignatures of the configured witness quorum covers the
entry, and then the receipt carries that checkpoint, verifiable offline. Until then the
receipt says it is not yet witnessed (and carries no checkpoint without the quorum)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from audit.anchors import anchor_from_note
from audit.merkle import verify_inclusion
from gateway.audit import AuditLog
from gateway.context import GatewayContext
from gateway.db import transaction, utcnow
from tests.audit.witnesses import RunningWitness, log_verifier, start_witness, witnessed
from tests.exchange.conftest import CASE_MANAGER, POLICE, VIOLENCE, UtrechtCase


@pytest.fixture
def witnesses(context: GatewayContext, tmp_path: Path) -> Iterator[list[RunningWitness]]:
    """Two witnesses, both required (quorum 2)."""
    log = context.audit
    running = [
        start_witness(tmp_path / f"w{n}", f"witness.partner-{n}.test/kp", log) for n in (1, 2)
    ]
    http = witnessed(log, running, quorum=2)
    yield running
    http.close()


def _disclose(case: UtrechtCase) -> dict:  # type: ignore[type-arg]
    request = case.request([VIOLENCE])
    answered = case.answer(request["id"], [{"category": VIOLENCE, "yesNo": True}])
    assert answered.status_code == 200, answered.text
    return case.read(request["id"])


def _receipt(case: UtrechtCase, disclosure_id: str) -> dict:  # type: ignore[type-arg]
    response = case.client.get(
        f"/v1/disclosures/{disclosure_id}/receipt", headers=case.as_(CASE_MANAGER, "cm-1")
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _sign(context: GatewayContext) -> AuditLog:
    log = context.audit
    log.sign_checkpoint(context.session_factory)
    return log


def test_a_disclosure_receipt_is_not_yet_witnessed_until_the_quorum_cosigns(
    utrecht_case: UtrechtCase, context: GatewayContext, witnesses: list[RunningWitness]
) -> None:
    disclosure = _disclose(utrecht_case)
    fresh = disclosure["receipt"]
    assert (fresh["witnessed"], fresh["witnessQuorum"]) == (False, 2)
    assert fresh.get("checkpoint") is None

    witnesses[1].down = True  # one cosignature of the two required
    _sign(context)
    waiting = _receipt(utrecht_case, disclosure["disclosureId"])
    assert (waiting["witnessed"], waiting["witnessQuorum"]) == (False, 2)
    assert waiting.get("checkpoint") is None
    assert waiting.get("inclusionProof") is None

    witnesses[1].down = False  # positive control: the quorum cosigns
    log = _sign(context)
    receipt = _receipt(utrecht_case, disclosure["disclosureId"])
    assert receipt["witnessed"] is True
    assert receipt["checkpoint"]["cosignatures"] == 2
    for witness in witnesses:  # offline, with the keys a partner trusts
        anchor = anchor_from_note(
            receipt["checkpoint"]["signedNote"],
            log_verifier(log),
            source="the receipt",
            witness=witness.verifier,
        )
    verify_inclusion(
        receipt["index"],
        anchor.tree_size,
        bytes.fromhex(receipt["leafHash"]),
        [bytes.fromhex(node) for node in receipt["inclusionProof"]],
        anchor.root_hash,
    )


def test_a_cosignature_line_added_in_the_database_does_not_make_a_receipt_witnessed(
    utrecht_case: UtrechtCase, context: GatewayContext, witnesses: list[RunningWitness]
) -> None:
    """Whoever runs the database copies the one real cosignature under the missing witness's
    name: the line does not verify with that witness's key, so it does not count."""
    disclosure = _disclose(utrecht_case)
    witnesses[1].down = True
    _sign(context)
    with transaction(context.session_factory) as session:
        size, line = session.execute(
            text(
                "SELECT tree_size, line FROM audit_note_signature WHERE signer = :w "
                "ORDER BY tree_size DESC LIMIT 1"
            ),
            {"w": witnesses[0].name},
        ).one()
        session.execute(
            text(
                "INSERT INTO audit_note_signature (tree_size, signer, line, signed_at) "
                "VALUES (:s, :w, :l, :t)"
            ),
            {
                "s": size,
                "w": witnesses[1].name,
                "l": line.replace(witnesses[0].name, witnesses[1].name),
                "t": utcnow(),
            },
        )
    forged = _receipt(utrecht_case, disclosure["disclosureId"])
    assert forged["witnessed"] is False
    assert forged.get("checkpoint") is None


def test_without_witnesses_a_receipt_carries_the_signed_checkpoint_but_never_says_witnessed(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    disclosure = _disclose(utrecht_case)
    _sign(context)
    receipt = _receipt(utrecht_case, disclosure["disclosureId"])
    assert receipt["checkpoint"] is not None  # the gateway's own signature only
    assert (receipt["witnessed"], receipt["witnessQuorum"]) == (False, 0)
    status = utrecht_case.client.get(
        f"/v1/information-requests/{disclosure['requestId']}",
        headers=utrecht_case.as_(POLICE),
    )
    assert status.status_code == 200, status.text
    assert status.json()["receipt"]["witnessed"] is False
