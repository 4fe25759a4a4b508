"""review9a F4 on the page: /privacy/grafieken shows the steering report's figures, so it
shows them only to the partners the covenant gives them to (covenant.yaml
``steering.readers``; Utrecht U §8 the steering group, Rijswijk R §4.3 every partner), as
GET /v1/steering-report (tests/cases/test_steering_access.py). A privacy officer of another
partner still reads its own partner's requests and denials there."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.steering_periods import this_month_ended
from tests.web.conftest import sign_in

STEERING_SECTION = "Open zaken per fase"
NOT_YOURS = "Uw organisatie hoort daar niet bij."


def test_a_privacy_officer_outside_utrechts_steering_group_sees_no_steering_figures(
    browser: TestClient,
) -> None:
    for partner in ("mitros", "politie-midden-nederland", "lister"):
        sign_in(browser, partner, "privacy-officer")
        with this_month_ended():
            html = browser.get("/privacy/grafieken").text
        assert STEERING_SECTION not in html
        assert "Afgesloten binnen" not in html
        assert NOT_YOURS in html
        assert "U Centraal, Gemeente Utrecht" in html
        assert "Verzoeken en weigeringen per partner per maand" in html  # its own, still


def test_control_the_steering_groups_and_rijswijks_officers_see_them(
    browser: TestClient,
) -> None:
    for partner in ("u-centraal", "buurtteam-jeugd-gezin", "rijswijk-wonen", "politie-den-haag"):
        sign_in(browser, partner, "privacy-officer")
        with this_month_ended():
            html = browser.get("/privacy/grafieken").text
        assert STEERING_SECTION in html, partner
        assert NOT_YOURS not in html
