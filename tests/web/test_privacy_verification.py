"""The privacy officers' "Verificatie" verifies as ``ketenpoort audit verify`` does: with the
configured log key (never the key directory's), the configured witnesses and quorum, asking
each witness what it holds; and says in plain Dutch what it checked and what it found."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from audit.keys import SIGNING_KEY_FILE, load_or_create_signer
from gateway.audit import AuditLog
from gateway.audit.wiring import key_dir
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.audit.witnesses import RunningWitness, log_verifier, start_witness, witnessed
from tests.web.conftest import csrf_of, sign_in
from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def witnesses(context: GatewayContext, tmp_path: Path) -> Iterator[list[RunningWitness]]:
    """Two witnesses, quorum 2, and the log key pinned as KETENPOORT_AUDIT_LOG_KEY pins it."""
    log = context.audit
    running = [
        start_witness(tmp_path / f"w{n}", f"witness.partner-{n}.test/kp", log) for n in (1, 2)
    ]
    http = witnessed(log, running, quorum=2)
    log.pinned_key = log_verifier(log)
    yield running
    http.close()


def _seeded(client: TestClient, auth: Auth, context: GatewayContext) -> AuditLog:
    seed_utrecht_case(client, auth)
    log = context.audit
    log.sign_checkpoint(context.session_factory)
    return log


def _verify(browser: TestClient) -> str:
    sign_in(browser, "u-centraal", "privacy-officer")
    page = browser.get("/privacy")
    response = browser.post("/privacy/verificatie", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 200, response.text
    return response.text


def test_an_intact_witnessed_log_says_what_was_checked(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
) -> None:
    _seeded(client, auth, context)
    html = _verify(browser)
    assert "Het logboek is intact" in html
    assert "door 2 getuige(n) medeondertekend" in html
    assert "Wat is gecontroleerd" in html
    assert "met de vastgelegde sleutel van het logboek" in html
    for witness in witnesses:
        assert f"Getuige {witness.name} is nu gevraagd wat hij bewaart" in html
    assert "telt als getuigd met 2 van de 2" in html


def test_without_a_configured_log_key_nothing_is_claimed(
    browser: TestClient, client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The key directory's key is not a pin: the page refuses to call the log intact."""
    _seeded(client, auth, context)
    assert context.audit.pinned_key is None
    html = _verify(browser)
    assert "Niet gecontroleerd" in html
    assert "KETENPOORT_AUDIT_LOG_KEY" in html
    assert "Het logboek is intact" not in html


def test_checkpoints_re_signed_with_a_key_put_in_the_key_directory_are_not_intact(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
    tmp_path: Path,
) -> None:
    """Before, the page trusted whatever key the key directory held: a replaced key with
    re-signed checkpoints verified. Now the configured key decides."""
    log = _seeded(client, auth, context)
    other = tmp_path / "other"
    load_or_create_signer(other)
    shutil.copy(other / SIGNING_KEY_FILE, key_dir(context.settings) / SIGNING_KEY_FILE)
    with transaction(context.session_factory) as session:
        session.execute(text("DELETE FROM audit_note_signature"))
        session.execute(text("DELETE FROM audit_checkpoint"))
    impostor = AuditLog.from_key_dir(key_dir(context.settings))
    impostor.origin, impostor.pseudonymiser = log.origin, log.pseudonymiser
    impostor.sign_checkpoint(context.session_factory)
    html = _verify(browser)
    assert "Het logboek is NIET intact" in html
    assert "signed by an untrusted key" in html


def test_a_changed_search_column_is_not_intact(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
) -> None:
    _seeded(client, auth, context)
    with transaction(context.session_factory) as session:
        session.execute(text("UPDATE audit_entry SET outcome = 'failed' WHERE idx = 0"))
    html = _verify(browser)
    assert "Het logboek is NIET intact: een zoekkolom wijkt af" in html


def test_entries_the_witnesses_have_not_cosigned_are_named(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
) -> None:
    _seeded(client, auth, context)
    witnesses[1].down = True
    seed_utrecht_case(client, auth, house_number=14, causer_bsn=None)  # more entries
    context.audit.sign_checkpoint(context.session_factory)  # one cosignature of two
    witnesses[1].down = False
    html = _verify(browser)
    assert "nog niet door de getuigen medeondertekend" in html
    assert "Het logboek is intact" not in html


def test_a_witness_that_cannot_be_asked_proves_nothing(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
) -> None:
    _seeded(client, auth, context)
    witnesses[0].down = True
    html = _verify(browser)
    assert "De controle kon niet worden uitgevoerd" in html
    assert witnesses[0].name in html
    assert "Het logboek is intact" not in html


def test_a_crafted_entry_body_is_not_intact_rather_than_an_error_page(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
) -> None:
    """review8b F3: a body cut after its index digits (leaf hash recomputed) raised IndexError
    out of the verification, and the officer got an error page instead of the finding."""
    from audit.merkle import leaf_hash

    _seeded(client, auth, context)
    body = '{"format":1,"index":0'
    with transaction(context.session_factory) as session:
        session.execute(
            text("UPDATE audit_entry SET body = :b, leaf_hash = :h WHERE idx = 0"),
            {"b": body, "h": leaf_hash(body.encode())},
        )
    html = _verify(browser)
    assert "Het logboek is NIET intact" in html
    assert "entry 0: malformed" in html


def test_a_verification_that_breaks_off_is_not_checked(
    browser: TestClient,
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    witnesses: list[RunningWitness],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any other failure inside the verification: "niet gecontroleerd", never an error page
    (and never "intact")."""
    from gateway.web import privacy_pages

    _seeded(client, auth, context)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(privacy_pages, "verify_stored", broken)
    html = _verify(browser)
    assert "Niet gecontroleerd" in html
    assert "brak af" in html
    assert "Het logboek is intact" not in html
