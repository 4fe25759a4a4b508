"""The privacy officer's pages and the answer page in a real browser at 1280 px (issue 23):
a partial refusal listed and an unanswered request not, the three answer states looking
different, the case number in the tables, paging, tables and the top navigation that fit
the screen, and only Dutch on every page. Screenshots of each page at 1280×900 go to
$KETENPOORT_SCREENSHOTS (default tests/screenshots/, not committed)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from gateway.web import logbook
from tests.browser.conftest import SCREENSHOTS, LiveGateway
from tests.browser.test_pages_in_chromium import csp_violations, sign_in, wait_for_url
from tests.web.dutch import english_in
from tests.web.scenario import (
    CAUSER_BSN,
    ExplorableCase,
    seed_explorable_case,
    seed_utrecht_case,
)

pytestmark = [pytest.mark.browser]

WIDTH, HEIGHT = 1280, 900


@pytest.fixture(scope="module")
def seeded(live_gateway: LiveGateway, api: httpx.Client) -> ExplorableCase:
    return seed_explorable_case(api, live_gateway.auth, district="West")


@pytest.fixture
def shot(chrome: Any) -> Callable[[str], None]:
    """A screenshot of the page as a 1280×900 screen shows it, and one of the whole page."""
    folder = Path(os.environ.get("KETENPOORT_SCREENSHOTS") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> None:
        chrome.set_window_size(WIDTH, HEIGHT)
        chrome.save_screenshot(str(folder / f"{name}.png"))
        height = chrome.execute_script("return document.documentElement.scrollHeight")
        if int(height) > HEIGHT:
            chrome.set_window_size(WIDTH, min(int(height) + 140, 5000))
            chrome.save_screenshot(str(folder / f"{name}-hele-pagina.png"))
            chrome.set_window_size(WIDTH, HEIGHT)

    chrome.set_window_size(WIDTH, HEIGHT)
    return save


def fits_the_screen(driver: Any) -> None:
    """No horizontal scrolling at 1280 px, and the top navigation on one row."""
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px wider than the window"
    tops = driver.execute_script(
        "return Array.from(document.querySelectorAll('.kop-binnen > *, .kop nav li'))"
        ".map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height/2))"
    )
    assert max(tops) - min(tops) <= 8, f"the top bar wraps: centres at {tops}"


def only_dutch(driver: Any) -> None:
    text = driver.find_element(By.TAG_NAME, "body").text
    assert english_in(text) == [], driver.current_url


def test_the_answer_page_shows_waiting_refused_and_disclosed_apart(
    chrome: Any, live_gateway: LiveGateway, seeded: ExplorableCase, shot: Callable[[str], None]
) -> None:
    driver, url = chrome, live_gateway.url
    driver.delete_all_cookies()
    sign_in(driver, url, "u-centraal|casemanager")
    wait_for_url(driver, f"{url}/zaken")
    base = f"{url}/zaken/{seeded.case.case_id}"

    driver.get(base)
    criteria = driver.find_element(By.ID, "kop-criteria").find_element(By.XPATH, "..").text
    assert "2 van de 6 criteria zijn vastgesteld" in criteria
    assert "De overlast is gerelateerd aan een woning." in criteria
    fits_the_screen(driver)
    only_dutch(driver)
    shot("zaak-met-criteria")

    driver.get(f"{base}/informatieverzoeken/{seeded.partial_request}")
    looks = {}
    for kind in ("verstrekt", "geweigerd", "wacht"):
        [item] = driver.find_elements(By.CSS_SELECTOR, f".antwoord-{kind}")
        label = item.find_element(By.CSS_SELECTOR, ".label")
        looks[kind] = (
            label.text,
            label.value_of_css_property("background-color"),
            item.value_of_css_property("border-left-color"),
            item.value_of_css_property("background-color"),
        )
    assert [looks[k][0] for k in ("verstrekt", "geweigerd", "wacht")] == [
        "Verstrekt",
        "Geweigerd",
        "Wacht op antwoord",
    ]
    assert len({looks[k][1:] for k in looks}) == 3, looks  # three different looks
    refused = driver.find_element(By.CSS_SELECTOR, ".antwoord-geweigerd").text
    assert "Er loopt een onderzoek en toestemming van het OM ontbreekt" in refused
    waiting = driver.find_element(By.CSS_SELECTOR, ".antwoord-wacht").text
    assert "Dit is geen weigering" in waiting
    fits_the_screen(driver)
    only_dutch(driver)
    shot("antwoord-drie-toestanden")

    driver.get(f"{base}/informatieverzoeken/{seeded.waiting_request}")
    assert driver.find_elements(By.CSS_SELECTOR, ".antwoord-wacht")
    assert not driver.find_elements(By.CSS_SELECTOR, ".antwoord-geweigerd")
    assert "Geweigerd" not in driver.find_element(By.TAG_NAME, "main").text
    shot("antwoord-wacht")

    driver.get(f"{base}/informatieverzoeken/{seeded.not_held_request}")
    assert driver.find_elements(By.CSS_SELECTOR, ".antwoord-geen-gegevens")
    shot("antwoord-geen-gegevens")

    driver.get(f"{base}/informatieverzoek")
    assert not driver.find_elements(By.CSS_SELECTOR, "input[name=doel]:checked")
    only_dutch(driver)
    shot("informatieverzoek-formulier")
    assert csp_violations(driver) == []


def test_the_privacy_pages_list_refusals_by_case_number_page_and_fit(
    chrome: Any,
    live_gateway: LiveGateway,
    api: httpx.Client,
    seeded: ExplorableCase,
    shot: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver, url = chrome, live_gateway.url
    driver.delete_all_cookies()
    sign_in(driver, url, "u-centraal|privacy-officer")
    wait_for_url(driver, f"{url}/privacy")
    number = seeded.case.reference
    # A checkpoint as the gateway's job signs one; the lines after it are not yet covered.
    context = live_gateway.context
    context.audit.sign_checkpoint(context.session_factory)
    seed_utrecht_case(api, live_gateway.auth, district="Zuid", house_number=90, causer_bsn=None)

    driver.get(f"{url}/privacy")
    driver.find_element(By.CSS_SELECTOR, "form[action='/privacy/verificatie'] button").click()
    wait_for_url(driver, f"{url}/privacy/verificatie")
    outcome = driver.find_element(By.CSS_SELECTOR, "#kop-verificatie ~ .melding").text
    # The newest lines wait for the next checkpoint: said, and why that is normal.
    assert "Geen fouten gevonden" in outcome, outcome
    assert "vallen nog niet onder een ondertekend controlepunt. Dat is normaal" in outcome
    fits_the_screen(driver)
    only_dutch(driver)
    shot("privacy-verificatie")

    driver.get(f"{url}/privacy/weigeringen")
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.regels tbody tr")]
    # The API's read and the answer page's (each read is decided and logged again).
    partial = [r for r in rows if "Deels verstrekt" in r and number in r]
    assert partial, rows
    for row in partial:
        assert "Er loopt een onderzoek en toestemming van het OM ontbreekt" in row
    assert all("Antwoorden ingezien" not in r for r in rows)  # the unanswered reads
    assert all("Nog niet beantwoord" not in r for r in rows)
    fits_the_screen(driver)
    only_dutch(driver)
    shot("privacy-weigeringen")

    driver.get(f"{url}/privacy/verstrekkingen")
    links = driver.find_elements(By.LINK_TEXT, number)
    assert links
    assert seeded.case.case_id[:8] not in driver.find_element(By.TAG_NAME, "main").text
    table = driver.find_element(By.CSS_SELECTOR, "table.regels")
    assert table.rect["x"] + table.rect["width"] <= WIDTH
    fits_the_screen(driver)
    only_dutch(driver)
    shot("privacy-verstrekkingen")

    monkeypatch.setattr(logbook, "PAGE_SIZE", 1)
    driver.get(f"{url}/privacy/verstrekkingen?zaak={number}")
    first = driver.find_element(By.CSS_SELECTOR, "table.regels tbody").text
    driver.find_element(By.PARTIAL_LINK_TEXT, "Oudere regels").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("ouder="))
    second = driver.find_element(By.CSS_SELECTOR, "table.regels tbody").text
    assert second != first
    assert number in second
    shot("privacy-verstrekkingen-bladeren")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Nieuwere regels").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("nieuwer="))
    assert driver.find_element(By.CSS_SELECTOR, "table.regels tbody").text == first
    monkeypatch.undo()

    for path, name in (
        ("/privacy", "privacy-overzicht"),
        ("/privacy/inzage", "privacy-inzage"),
        ("/privacy/bewaartermijnen", "privacy-bewaartermijnen"),
        ("/privacy/grafieken", "privacy-grafieken"),
    ):
        driver.get(f"{url}{path}")
        fits_the_screen(driver)
        only_dutch(driver)
        shot(name)

    driver.get(f"{url}/privacy/inzage")
    driver.find_element(By.ID, "nummer").send_keys(CAUSER_BSN)
    driver.find_element(By.CSS_SELECTOR, "form[action='/privacy/inzage'] button").click()
    WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "kop-rapport"))
    )
    fits_the_screen(driver)
    only_dutch(driver)
    shot("privacy-inzagerapport")
    held = driver.get(f"{url}/privacy/bewaartermijnen")
    assert held is None
    assert "Bezwaarprocedure loopt" in driver.find_element(By.TAG_NAME, "main").text
    assert csp_violations(driver) == []
