"""The pages in a real browser: a case manager signs in, opens a case, requests
information and sees a redacted category with its reason; a privacy officer opens the
access report. Screenshots of the main pages go to tests/screenshots/ (not committed)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import SCREENSHOTS, LiveGateway
from tests.web.scenario import CAUSER_BSN, answer_police_reports, seed_utrecht_case

pytestmark = [pytest.mark.browser]


def sign_in(driver: Any, url: str, choice: str) -> None:
    driver.get(f"{url}/inloggen")
    Select(driver.find_element(By.ID, "gebruiker")).select_by_value(choice)
    driver.find_element(By.CSS_SELECTOR, "form[action='/inloggen/demo'] button").click()


def wait_for_url(driver: Any, url: str) -> None:
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(url))


def csp_violations(driver: Any) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def test_case_manager_requests_information_and_privacy_officer_reads_access_report(
    chrome: Any,
    live_gateway: LiveGateway,
    api: httpx.Client,
    screenshot: Callable[[str], Path],
) -> None:
    driver, url = chrome, live_gateway.url
    seeded = seed_utrecht_case(api, live_gateway.auth)

    driver.get(f"{url}/inloggen")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Inloggen"
    # Keyboard: the first Tab reaches the skip link.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Naar de inhoud"
    screenshot("01-inloggen")

    sign_in(driver, url, "u-centraal|casemanager")
    wait_for_url(driver, f"{url}/zaken")
    cookie = driver.get_cookie("__Host-ketenpoort-sessie")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    screenshot("02-mijn-zaken")

    driver.find_element(By.LINK_TEXT, seeded.reference).click()
    assert driver.find_element(By.TAG_NAME, "h1").text == f"Zaak {seeded.reference}"
    assert "Politie eenheid Midden-Nederland" in driver.page_source
    screenshot("03-zaak")

    driver.find_element(By.LINK_TEXT, "Informatie opvragen").click()
    # Several purposes fit this phase: none is chosen for the user (issue 23).
    assert not driver.find_elements(By.CSS_SELECTOR, "input[name=doel]:checked")
    driver.find_element(By.ID, "doel-intake-assessment").click()
    driver.find_element(By.ID, "vraag-politie-midden-nederland-police-reports").click()
    driver.find_element(By.ID, "vraag-politie-midden-nederland-police-nuisance-antecedents").click()
    screenshot("04-informatieverzoek")
    driver.find_element(By.CSS_SELECTOR, "form.formulier button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/informatieverzoeken/"))
    request_id = driver.current_url.rsplit("/", 1)[-1]
    redacted = driver.find_elements(By.CSS_SELECTOR, ".antwoord-geweigerd")
    assert redacted, "no refused category shown"
    text = " ".join(item.text for item in redacted)
    assert "Geweigerd" in text
    assert "Er loopt een onderzoek en toestemming van het OM ontbreekt" in text
    assert "U-5.3-antecedenten" in text

    answer_police_reports(api, live_gateway.auth, request_id)
    driver.refresh()
    disclosed = driver.find_elements(By.CSS_SELECTOR, ".antwoord-verstrekt")
    assert any("3 meldingen geluidsoverlast" in item.text for item in disclosed)
    screenshot("05-antwoord")

    driver.get(f"{url}/zaken/{seeded.case_id}")
    assert "Verstrekking" in driver.find_element(By.CLASS_NAME, "tijdlijn").text
    screenshot("06-zaak-tijdlijn")

    driver.find_element(By.CSS_SELECTOR, "form[action='/uitloggen'] button").click()
    wait_for_url(driver, f"{url}/inloggen")

    sign_in(driver, url, "u-centraal|privacy-officer")
    wait_for_url(driver, f"{url}/privacy")
    # The checkpoint the gateway's job would have signed by now (its interval is 0 here).
    context = live_gateway.context
    context.audit.sign_checkpoint(context.session_factory)
    driver.find_element(By.CSS_SELECTOR, "form[action='/privacy/verificatie'] button").click()
    # Wait for the POST's page: reading page_source right after the click can still see the
    # overview page on a busy machine.
    wait_for_url(driver, f"{url}/privacy/verificatie")
    outcome = driver.find_element(By.CSS_SELECTOR, "#kop-verificatie ~ p.melding").text
    assert "Het logboek is intact" in outcome, outcome
    screenshot("07-privacy-overzicht")

    driver.get(f"{url}/privacy/inzage")
    driver.find_element(By.ID, "nummer").send_keys(CAUSER_BSN)
    driver.find_element(By.ID, "nummer").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "kop-rapport"))
    )
    assert driver.find_element(By.ID, "kop-rapport").text == "Overzicht van verwerkingen"
    assert CAUSER_BSN not in driver.current_url
    assert CAUSER_BSN not in driver.page_source
    screenshot("08-inzagerapport")
    pdf = driver.print_page()
    (SCREENSHOTS / "08-inzagerapport.pdf").write_bytes(base64.b64decode(pdf))

    driver.get(f"{url}/privacy/verstrekkingen?zaak={seeded.reference}")
    assert "regels gevonden" in driver.page_source
    screenshot("09-verstrekkingen")
    driver.get(f"{url}/privacy/grafieken")
    assert driver.find_elements(By.CSS_SELECTOR, "svg rect.balk")
    screenshot("10-grafieken")

    assert csp_violations(driver) == []


def test_organiser_plans_a_district_meeting_and_records_it(
    chrome: Any,
    live_gateway: LiveGateway,
    api: httpx.Client,
    screenshot: Callable[[str], Path],
) -> None:
    driver, url = chrome, live_gateway.url
    seeded = seed_utrecht_case(
        api, live_gateway.auth, district="Oost", house_number=20, causer_bsn=None
    )
    driver.delete_all_cookies()
    sign_in(driver, url, "u-centraal|casemanager")
    wait_for_url(driver, f"{url}/zaken")

    driver.get(f"{url}/overleggen")
    driver.find_element(By.ID, "plan-wijk").send_keys("Oost")
    driver.find_element(By.CSS_SELECTOR, "form[action='/overleggen'] button").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("melding=gepland"))
    assert seeded.reference in driver.find_element(By.TAG_NAME, "ol").text

    Select(driver.find_element(By.ID, "aanwezig-u-centraal")).select_by_value("aanwezig")
    Select(driver.find_element(By.ID, "aanwezig-politie-midden-nederland")).select_by_value(
        "afwezig"
    )
    driver.find_element(By.CSS_SELECTOR, "form[action$='/aanwezigheid'] button").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("melding=aanwezigheid"))

    driver.find_element(By.ID, "notulen").send_keys("Situatie besproken; buurtbemiddeling.")
    driver.find_element(By.CSS_SELECTOR, "form[action$='/notulen'] button").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("melding=notulen"))

    Select(driver.find_element(By.ID, "actie-zaak")).select_by_value(seeded.case_id)
    Select(driver.find_element(By.ID, "actie-eigenaar")).select_by_value("politie-midden-nederland")
    driver.find_element(By.ID, "actie-omschrijving").send_keys("Huisbezoek afleggen")
    # A date field takes the date typed in the browser's locale; the script sets the value
    # as ISO, which is what the form submits whatever the locale.
    driver.execute_script("document.getElementById('actie-uiterlijk').value = '2026-12-31'")
    driver.find_element(By.CSS_SELECTOR, "form[action$='/acties'] button").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("melding=actie"))
    page = driver.page_source
    assert "Afwezig met bericht" in page or "afwezig met bericht" in page
    assert "Huisbezoek afleggen" not in page  # sealed, not echoed
    assert driver.find_elements(By.CSS_SELECTOR, "form[action$='/afgerond'] button")
    screenshot("11-casusoverleg")
    assert csp_violations(driver) == []
