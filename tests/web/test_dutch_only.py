"""Every page in Dutch (issue 23): each page is rendered as the roles that use it, with a
case that has something on every page (criteria, a partial refusal, a waiting and a "we hold
nothing" answer, a legal hold, a meeting, a phase change, a signed checkpoint), and its
visible text is scanned for English words and kebab-case identifiers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.web.conftest import csrf_of, sign_in
from tests.web.dutch import english_in, visible_text
from tests.web.scenario import CAUSER_BSN, seed_explorable_case

Auth = Callable[..., dict[str, str]]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The district's next case meeting.", ["The", "case", "meeting", "next"]),
        ("Activiteit case-criteria", ["case-criteria"]),
        ("case-closed on 2026-12-03 + 24 months", ["case-closed", "months", "on"]),
        ("Reden: not-answered-yet", ["not-answered-yet"]),
        ("No case with this id is visible to your partner.", ["No", "case", "this", "your"]),
        # The control of the case number below: "BE" outside a case number is still found.
        ("Zaak UTR-2026-64BE27 BE", ["BE"]),
    ],
)
def test_the_scan_finds_the_english_the_issue_named(text: str, found: list[str]) -> None:
    assert set(found) <= set(english_in(text))


@pytest.mark.parametrize(
    "text",
    [
        "Aard, omvang en constatering van meldingen en politie-inzet",
        "Politie eenheid Midden-Nederland, district Stad-Utrecht",
        "Het logboek is in orde: regel 0 tot en met 12 (besluit "
        "f59d60ce-83af-4c0a-a2af-24ca08b9377a, sleutel 9ef0a4283ea6dbd400c8).",
        "Artikel U-5.3-antecedenten (U §5.3), zaak UTR-2026-8310F4, 03-12-2026",
        "Vastgelegd (regel 6; besluit 6db135d3-43f0-4be2-b841-c7cf852e3f6c, beleid 9ef0a42).",
        "met de sleutel van het logboek (ketenpoort.example/audit-log, sleutel 9ef0a4283e…)",
        # A case number's random part is upper-case hex: "BE" in it is no word (it failed the
        # browser tests for UTR-2026-64BE27).
        "Zaak UTR-2026-64BE27, RIJ-2026-ADBE00",
    ],
)
def test_the_scan_passes_dutch_text(text: str) -> None:
    assert english_in(text) == []


def test_every_page_shows_only_dutch(
    browser: TestClient, client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    seeded = seed_explorable_case(client, auth, district="Oost")
    log = context.audit
    log.pinned_key = log.signer.note_signer(log.origin).verifier  # KETENPOORT_AUDIT_LOG_KEY
    log.sign_checkpoint(context.session_factory)
    rijswijk = client.post(
        "/v1/reports",
        headers=auth("gemeente-rijswijk", "casemanager", user="cm-r"),
        json={
            "dwelling": {
                "address": {"postcode": "2281 AB", "houseNumber": 3},
                "ownership": "corporation",
                "corporationId": "rijswijk-wonen",
                "district": "Centrum",
            },
            "persons": [],
            "report": {"channel": "phone", "description": "Geluidsoverlast."},
        },
    )
    assert rijswijk.status_code == 201, rijswijk.text
    case = f"/zaken/{seeded.case.case_id}"
    found: dict[str, list[str]] = {}

    def scan(label: str, html: str) -> None:
        assert "<h1" in html, label  # a real page, not an empty answer
        english = english_in(visible_text(html))
        if english:
            found[label] = english

    sign_in(browser, "u-centraal", "casemanager")
    for path in (
        "/zaken",
        case,
        f"{case}/informatieverzoek",
        f"{case}/informatieverzoeken/{seeded.partial_request}",
        f"{case}/informatieverzoeken/{seeded.waiting_request}",
        f"{case}/informatieverzoeken/{seeded.not_held_request}",
        f"{case}/overgang/decline",
        "/overleggen",
        f"/overleggen/{seeded.meeting_id}",
        "/zaken/bestaat-niet",  # an error of the cases domain, as a page
        "/privacy",  # forbidden for a case manager: the error page
    ):
        scan(f"casemanager {path}", browser.get(path).text)

    sign_in(browser, "gemeente-rijswijk", "casemanager")
    scan("rijswijk /zaken", browser.get("/zaken").text)
    scan("rijswijk case", browser.get(f"/zaken/{rijswijk.json()['caseId']}").text)

    sign_in(browser, "u-centraal", "privacy-officer")
    for path in (
        "/privacy",
        "/privacy/verstrekkingen",
        f"/privacy/verstrekkingen?zaak={seeded.case.reference}",
        "/privacy/weigeringen",
        "/privacy/inzage",
        "/privacy/bewaartermijnen",
        "/privacy/grafieken",
    ):
        scan(f"privacy-officer {path}", browser.get(path).text)
    token = csrf_of(browser.get("/privacy").text)
    verified = browser.post("/privacy/verificatie", data={"csrf_token": token}).text
    assert "Wat is gecontroleerd" in verified
    scan("verificatie", verified)
    report = browser.post("/privacy/inzage", data={"csrf_token": token, "nummer": CAUSER_BSN})
    assert "Overzicht van verwerkingen" in report.text
    scan("inzagerapport", report.text)

    browser.cookies.clear()
    scan("inloggen", browser.get("/inloggen").text)

    assert found == {}


def test_every_id_the_pages_translate_has_its_dutch_word(context: GatewayContext) -> None:
    """The words behind the scan: each phase, deadline and role the covenants and workflows
    name, and each activity the gateway logs, has a Dutch label (an unknown id would be shown
    as it is)."""
    from gateway.web import texts

    missing: list[str] = []
    runtime = context.cases
    for covenant in context.covenants.values():
        workflow = runtime.workflow(covenant.id)
        missing += [s.id for s in workflow.states if s.id not in texts.PHASES]
        deadlines = [*workflow.deadlines, *([workflow.target] if workflow.target else [])]
        missing += [d.id for d in deadlines if d.id not in texts.DEADLINES]
        # Roles are named by the covenant itself (roles[].name, required when it loads).
        missing += [r.id for r in covenant.roles if not r.name.strip()]
    logged = {
        "case-intake", "case-team-change", "case-reporter-decision", "access-report",
        "case-investigation-status", "case-event", "workflow-transition", "consent-change",
        "information-request", "information-answer", "information-read", "disclosure",
        "denial", "case-fact-recorded", "retention-redaction", "key-rotation",
        "case-meeting-planned", "case-meeting-minutes", "case-criteria", "legal-hold-set",
        "legal-hold-lifted", "case-notice-read", "retention-fact", "case-landlord-change",
    }  # fmt: skip
    missing += sorted(logged - set(texts.ACTIVITIES))
    missing += [d for d in ("district-meeting", "reporter-decision", "retention-erasure")
                if d not in texts.DEADLINES]  # fmt: skip
    assert missing == []
