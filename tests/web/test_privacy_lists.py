"""The privacy officer's lists of disclosures and refusals (issue 23): a refusal is a
category withheld by a decision, partial refusals included; a category still waiting for
its answer is none. Lines name the case by its number, only disclosures and refusals are
listed, and the lists page through the log newest first."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.web import logbook
from tests.web.conftest import sign_in
from tests.web.dutch import visible_text
from tests.web.scenario import ExplorableCase, seed_explorable_case

Auth = Callable[..., dict[str, str]]
ROW = re.compile(r"<tr>\s*<td>.*?</tr>", re.S)
LINE_INDEX = re.compile(r"regel (\d+)</span>")


@pytest.fixture
def seeded(client: TestClient, auth: Auth) -> ExplorableCase:
    return seed_explorable_case(client, auth, district="Oost")


def rows(html: str) -> list[str]:
    return [visible_text(row) for row in ROW.findall(html)]


def test_refusals_list_the_partial_refusal_and_not_the_unanswered_reads(
    browser: TestClient, seeded: ExplorableCase
) -> None:
    sign_in(browser, "u-centraal", "privacy-officer")
    listed = rows(browser.get("/privacy/weigeringen").text)

    antecedents = "Het feit of de veroorzaker bekend staat vanwege overlastantecedenten"
    om = "Er loopt een onderzoek en toestemming van het OM ontbreekt"
    # The request refused the antecedents and asked the rest; the read disclosed the police
    # reports and refused the antecedents ("Deels verstrekt"): both are refusals.
    assert any("Informatieverzoek Deels geweigerd" in r and antecedents in r for r in listed)
    read = [r for r in listed if "Verstrekking Deels verstrekt" in r]
    assert len(read) == 1
    assert antecedents in read[0]
    assert om in read[0]
    assert "Aard, omvang en constatering van meldingen en politie-inzet" in read[0]
    # The reads of the waiting and the "we hold nothing" requests refused nothing.
    assert all("Antwoorden ingezien" not in r for r in listed)
    assert all("Nog niet beantwoord" not in r for r in listed)
    assert len(listed) == 2


def test_an_unanswered_request_is_shown_as_waiting_not_refused(
    browser: TestClient, seeded: ExplorableCase
) -> None:
    # Positive control of the test above: the read of the waiting request is in the
    # disclosures list, as a read that disclosed nothing yet, not as a refusal.
    sign_in(browser, "u-centraal", "privacy-officer")
    listed = rows(browser.get("/privacy/verstrekkingen").text)
    # Reads that disclosed nothing and refused nothing are not disclosures either.
    assert all("Antwoorden ingezien" not in r for r in listed)
    assert any("Verstrekking Deels verstrekt" in r for r in listed)
    assert all("Fase gewijzigd" not in r and "Aanmelding vastgelegd" not in r for r in listed)


def test_lines_name_the_case_by_its_number_and_the_number_finds_them(
    browser: TestClient, seeded: ExplorableCase
) -> None:
    sign_in(browser, "u-centraal", "privacy-officer")
    html = browser.get("/privacy/verstrekkingen").text
    number = seeded.case.reference
    assert f'class="zaaknummer" href="/privacy/verstrekkingen?zaak={number}">{number}</a>' in html
    assert seeded.case.case_id[:8] not in visible_text(html)

    by_number = browser.get(f"/privacy/verstrekkingen?zaak={number.lower()}").text
    assert rows(by_number) == rows(html)
    other = browser.get("/privacy/verstrekkingen?zaak=UTR-2000-000000").text
    assert rows(other) == []
    assert "Geen regels gevonden" in other


def test_the_lists_page_through_the_log_newest_first(
    browser: TestClient, seeded: ExplorableCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(browser, "u-centraal", "privacy-officer")
    everything = browser.get("/privacy/verstrekkingen").text
    all_lines = [int(i) for i in LINE_INDEX.findall(everything)]
    assert len(all_lines) == 2  # the request that refused in part, the partial read
    assert all_lines == sorted(all_lines, reverse=True)

    monkeypatch.setattr(logbook, "PAGE_SIZE", 1)
    first = browser.get("/privacy/verstrekkingen").text
    assert "← Nieuwere regels" not in first
    older = re.search(r'href="(/privacy/verstrekkingen\?ouder=\d+)"[^>]*>Oudere regels →', first)
    assert older, first
    second = browser.get(older.group(1)).text
    newer = re.search(r'href="(/privacy/verstrekkingen\?nieuwer=\d+)"[^>]*>← Nieuwere', second)
    assert newer, second
    assert [int(i) for i in LINE_INDEX.findall(first)] == all_lines[:1]
    assert [int(i) for i in LINE_INDEX.findall(second)] == all_lines[1:]
    assert "Oudere regels" not in second
    back = browser.get(newer.group(1)).text
    assert LINE_INDEX.findall(back) == LINE_INDEX.findall(first)
    assert "2 regels gevonden" in second


def test_the_coordinating_officers_refusals_do_not_tell_whether_an_investigation_runs(
    browser: TestClient, seeded: ExplorableCase
) -> None:
    """review3, finding 1: the municipality's coordinating officer lists the lead's refused
    antecedents with one reason whatever the investigation status; the lead's own officer
    (the first test above) reads the reason the lead was told."""
    sign_in(browser, "gemeente-utrecht", "privacy-officer")
    listed = rows(browser.get("/privacy/weigeringen").text)
    antecedents = "Het feit of de veroorzaker bekend staat vanwege overlastantecedenten"
    refused = [r for r in listed if antecedents in r]
    assert len(refused) == 2
    uniform = "Niet voldaan aan de voorwaarde van toestemming van het OM"
    assert all(uniform in r for r in refused)
    assert all("Er loopt een onderzoek" not in r for r in listed)
    assert all("De politie heeft niet vastgelegd" not in r for r in listed)
