"""The answer page's states (issue 23): waiting for the partner, refused by a decision (with
when and why), disclosed, and the partner holds nothing; each its own label and look."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.web.conftest import sign_in
from tests.web.dutch import visible_text
from tests.web.scenario import seed_explorable_case

Auth = Callable[..., dict[str, str]]
ITEM = re.compile(
    r'<li class="antwoord antwoord-([a-z-]+)">(.*?)</li>\s*(?=<li class="antw|</ul>)', re.S
)


def states(html: str) -> dict[str, str]:
    """Category name -> (state class, visible text) of each item on the page."""
    found = {}
    for kind, body in ITEM.findall(html):
        name = re.search(r"<h3>(.*?)</h3>", body)
        assert name
        found[name.group(1)] = f"{kind}: {visible_text(body)}"
    return found


def test_waiting_refused_and_disclosed_look_different(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_explorable_case(client, auth, district="Oost")
    sign_in(browser, "u-centraal", "casemanager")
    base = f"/zaken/{seeded.case.case_id}/informatieverzoeken"

    partial = states(browser.get(f"{base}/{seeded.partial_request}").text)
    reports = partial["Aard, omvang en constatering van meldingen en politie-inzet"]
    assert reports.startswith("verstrekt: ")
    assert "Verstrekt" in reports
    assert "3 meldingen geluidsoverlast" in reports
    refused = partial["Het feit of de veroorzaker bekend staat vanwege overlastantecedenten"]
    assert refused.startswith("geweigerd: ")
    assert "Geweigerd door het beleid toen het verzoek werd gedaan" in refused
    assert "Er loopt een onderzoek en toestemming van het OM ontbreekt" in refused
    waiting = partial["Het feit of er fysiek geweld wordt gebruikt tegen omwonenden"]
    assert waiting.startswith("wacht: ")
    assert "Wacht op antwoord" in waiting
    assert "geen weigering" in waiting
    assert "Geweigerd" not in waiting

    only_waiting = browser.get(f"{base}/{seeded.waiting_request}").text
    assert {v.split(":")[0] for v in states(only_waiting).values()} == {"wacht"}
    assert "Geweigerd" not in visible_text(only_waiting)
    assert "Afgeschermd" not in visible_text(only_waiting)

    not_held = states(browser.get(f"{base}/{seeded.not_held_request}").text)
    [value] = not_held.values()
    assert value.startswith("geen-gegevens: ")
    assert "geen gegevens" in value
