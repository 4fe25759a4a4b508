"""The Dutch pages through a TestClient: sessions, CSRF, CSP, sign-in, and the case and
privacy pages reading through the same services (policy decision, audit) as the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.cases.models import CaseFile
from gateway.cases.steering import MIN_GROUP_SIZE
from gateway.context import GatewayContext
from gateway.db import transaction, utcnow
from gateway.web.models import WebSession
from gateway.web.texts import transition_description
from tests.steering_periods import near, this_month_ended
from tests.web.conftest import csrf_of, sign_in
from tests.web.scenario import CAUSER_BSN, seed_utrecht_case

Auth = Callable[..., dict[str, str]]


def session_cookie(client: TestClient) -> str | None:
    return client.cookies.get("__Host-ketenpoort-sessie")


class TestWithoutSignIn:
    @pytest.mark.parametrize(
        "path", ["/zaken", "/overleggen", "/privacy", "/privacy/inzage", "/privacy/grafieken"]
    )
    def test_pages_redirect_to_sign_in_and_show_no_case_data(
        self, browser: TestClient, path: str
    ) -> None:
        response = browser.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/inloggen"

    def test_a_case_page_reveals_nothing_without_a_session(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        response = browser.get(f"/zaken/{seeded.case_id}")
        assert seeded.reference not in response.text
        assert response.url.path == "/inloggen"

    def test_a_bearer_token_does_not_open_the_pages(self, browser: TestClient, auth: Auth) -> None:
        response = browser.get(
            "/zaken", headers=auth("u-centraal", "casemanager"), follow_redirects=False
        )
        assert response.status_code == 303


class TestSignInPage:
    def test_is_dutch_labelled_and_script_free_under_a_strict_csp(
        self, browser: TestClient
    ) -> None:
        response = browser.get("/inloggen")
        assert response.status_code == 200
        html = response.text
        assert '<html lang="nl">' in html
        assert "Inloggen" in html
        assert "Demogebruikers" in html
        csp = response.headers["content-security-policy"]
        assert "script-src 'none'" in csp
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp
        assert "<script" not in html
        assert "style=" not in html
        assert " on" + "click" not in html
        for field_id in re.findall(r'<(?:select|input|textarea)[^>]*\bid="([^"]+)"', html):
            assert f'for="{field_id}"' in html, f"field {field_id} has no label"

    def test_lists_demo_users_of_both_covenants(self, browser: TestClient) -> None:
        html = browser.get("/inloggen").text
        assert "Aanpak extreme woonoverlast Utrecht" in html
        assert 'value="u-centraal|casemanager"' in html
        assert 'value="gemeente-rijswijk|' in html
        assert "|adapter" not in html

    def test_session_cookie_is_secure_httponly_and_strict(self, browser: TestClient) -> None:
        cookie = browser.get("/inloggen").headers["set-cookie"]
        assert cookie.startswith("__Host-ketenpoort-sessie=")
        lowered = cookie.lower()
        assert "secure" in lowered
        assert "httponly" in lowered
        assert "samesite=strict" in lowered
        assert "path=/" in lowered
        assert "domain=" not in lowered

    def test_demo_sign_in_does_not_exist_outside_demo_mode(
        self, browser: TestClient, context: GatewayContext
    ) -> None:
        token = csrf_of(browser.get("/inloggen").text)
        context.settings.demo_mode = False
        response = browser.post(
            "/inloggen/demo", data={"csrf_token": token, "gebruiker": "u-centraal|casemanager"}
        )
        assert response.status_code == 404
        assert "alleen in de demomodus" in response.text

    @pytest.mark.parametrize("demo_mode", [True, False])
    def test_a_demo_session_ends_when_the_gateway_is_not_in_demo_mode(
        self, browser: TestClient, context: GatewayContext, demo_mode: bool
    ) -> None:
        # A demo sign-in proves nothing; a gateway started without demo mode on a database
        # a demo ran on refuses its sessions and deletes them. Positive control: demo mode.
        sign_in(browser, "u-centraal", "casemanager")
        assert browser.get("/zaken", follow_redirects=False).status_code == 200
        context.settings.demo_mode = demo_mode
        response = browser.get("/zaken", follow_redirects=False)
        with context.session_factory() as db:
            demo_sessions = db.scalar(
                select(func.count()).select_from(WebSession).where(WebSession.auth_method == "demo")
            )
        if demo_mode:
            assert response.status_code == 200
            assert demo_sessions == 1
        else:
            assert response.status_code == 303
            assert response.headers["location"] == "/inloggen"
            assert demo_sessions == 0


class TestCsrf:
    def test_a_form_without_its_token_is_refused(self, browser: TestClient) -> None:
        browser.get("/inloggen")
        response = browser.post("/inloggen/demo", data={"gebruiker": "u-centraal|casemanager"})
        assert response.status_code == 403
        assert "Het formulier is verlopen of ongeldig" in response.text
        assert "set-cookie" not in response.headers

    def test_a_token_of_another_session_is_refused(self, browser: TestClient, app: object) -> None:
        with TestClient(app, base_url="https://testserver") as other:  # type: ignore[arg-type]
            foreign = csrf_of(other.get("/inloggen").text)
        browser.get("/inloggen")
        response = browser.post(
            "/inloggen/demo", data={"csrf_token": foreign, "gebruiker": "u-centraal|casemanager"}
        )
        assert response.status_code == 403

    def test_a_signed_in_form_without_token_changes_nothing(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "casemanager")
        response = browser.post(
            f"/zaken/{seeded.case_id}/informatieverzoek",
            data={"doel": "intake-assessment", "vraag": "politie-midden-nederland|police-reports"},
        )
        assert response.status_code == 403
        page = browser.get(f"/zaken/{seeded.case_id}")
        assert "Informatieverzoek</strong>" not in page.text


class TestSession:
    def test_sign_in_issues_a_new_session_id_and_sign_out_ends_it(
        self, browser: TestClient, context: GatewayContext
    ) -> None:
        browser.get("/inloggen")
        anonymous = session_cookie(browser)
        sign_in(browser, "u-centraal", "casemanager")
        signed_in = session_cookie(browser)
        assert signed_in
        assert signed_in != anonymous
        assert browser.get("/zaken").status_code == 200
        token = csrf_of(browser.get("/zaken").text)
        assert browser.post("/uitloggen", data={"csrf_token": token}).url.path == "/inloggen"
        browser.cookies.set("__Host-ketenpoort-sessie", signed_in)
        assert browser.get("/zaken", follow_redirects=False).status_code == 303
        with context.session_factory() as session:
            signed = session.scalar(
                select(func.count())
                .select_from(WebSession)
                .where(WebSession.partner_id.is_not(None))
            )
        assert signed == 0

    def test_the_database_holds_only_a_hash_of_the_cookie(
        self, browser: TestClient, context: GatewayContext
    ) -> None:
        sign_in(browser, "u-centraal", "casemanager")
        cookie = session_cookie(browser)
        with context.session_factory() as session:
            ids = list(session.scalars(select(WebSession.id_hash)))
        assert cookie
        assert cookie not in ids
        assert len(ids) == 1

    def test_case_workers_and_privacy_officers_keep_to_their_pages(
        self, browser: TestClient
    ) -> None:
        sign_in(browser, "u-centraal", "casemanager")
        assert browser.get("/privacy").status_code == 403
        sign_in(browser, "u-centraal", "privacy-officer")
        assert browser.get("/zaken").status_code == 403
        assert browser.get("/privacy").status_code == 200


class TestCasePages:
    def test_my_cases_lists_the_case_with_its_phase_and_deadline(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "casemanager")
        html = browser.get("/zaken").text
        assert seeded.reference in html
        assert "Aanmelding" in html

    def test_case_page_shows_team_timeline_and_only_allowed_transitions(
        self, browser: TestClient, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "casemanager")
        html = browser.get(f"/zaken/{seeded.case_id}").text
        assert "Zaakteam" in html
        assert "Politie eenheid Midden-Nederland" in html
        assert "Tijdlijn" in html
        assert "Eerste melding" in html
        offered = set(re.findall(rf"/zaken/{seeded.case_id}/overgang/([a-z0-9-]+)", html))
        workflow = context.cases.workflow("utrecht-extreme-woonoverlast")
        assert offered <= {t.id for t in workflow.transitions_from("intake")}
        forbidden = next(t.id for t in workflow.transitions if "intake" not in t.from_states)
        response = browser.get(f"/zaken/{seeded.case_id}/overgang/{forbidden}")
        assert response.status_code == 422

    def test_a_transition_shows_the_workflows_dutch_description(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "casemanager")
        html = browser.get(f"/zaken/{seeded.case_id}").text
        dutch = "Besluit de zaak op te pakken; de casusregisseur heeft de OGGZ-doelgroep getoetst."
        # The transition's id only as a tooltip: the visible text is Dutch (issue 23).
        assert f'<span class="beschrijving" title="take-on">{dutch}</span>' in html
        assert "(take-on)" not in html
        assert "Decide to take the case on" not in html  # the English description stays in the API
        form = browser.get(f"/zaken/{seeded.case_id}/overgang/take-on").text
        assert f'<p class="beschrijving">{dutch}</p>' in form

    def test_a_refused_step_says_in_dutch_which_covenant_condition_is_missing(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        """The API's 409 guard-failed names the guard in English; the page says the same
        condition in Dutch with the section, instead of a bare "not possible now"."""
        seeded = seed_utrecht_case(client, auth)  # no criteria recorded yet
        sign_in(browser, "u-centraal", "casemanager")
        form = browser.get(f"/zaken/{seeded.case_id}/overgang/take-on").text
        refused = browser.post(
            f"/zaken/{seeded.case_id}/overgang/take-on", data={"csrf_token": csrf_of(form)}
        )
        assert refused.status_code == 409
        assert (
            "Deze stap kan nog niet: er moeten genoeg criteria van het convenant vastgesteld "
            "zijn, of een spoedbesluit met reden (U §2)."
        ) in refused.text
        assert "criteria-met" not in refused.text  # the guard's id stays in the API

    def test_every_workflow_guard_has_a_dutch_text(self) -> None:
        from gateway.cases.guards import GUARDS
        from gateway.web.texts import GUARD_TEXTS

        assert set(GUARD_TEXTS) == set(GUARDS)

    def test_request_answer_shows_a_redacted_category_with_reason_and_clause(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "casemanager")
        form = browser.get(f"/zaken/{seeded.case_id}/informatieverzoek").text
        assert 'value="politie-midden-nederland|police-nuisance-antecedents"' in form
        assert "mitros|" not in form  # not in the case team: not offered
        response = browser.post(
            f"/zaken/{seeded.case_id}/informatieverzoek",
            data={
                "csrf_token": csrf_of(form),
                "doel": "intake-assessment",
                "vraag": [
                    "politie-midden-nederland|police-reports",
                    "politie-midden-nederland|police-nuisance-antecedents",
                ],
            },
        )
        assert response.status_code == 200
        assert "/informatieverzoeken/" in response.url.path
        html = response.text
        refused = html[html.index('class="antwoord antwoord-geweigerd"') :]
        assert "Geweigerd" in refused
        assert "Er loopt een onderzoek en toestemming van het OM ontbreekt" in refused
        # The reports are asked and not answered yet: waiting, not refused (issue 23).
        waiting = html[html.index('class="antwoord antwoord-wacht"') :]
        assert "Wacht op antwoord" in waiting
        assert "Nog niet beantwoord" not in html
        assert "U-5.3-antecedenten" in html
        assert "vastgelegd in het logboek" in html
        timeline = browser.get(f"/zaken/{seeded.case_id}").text
        assert "Informatieverzoek" in timeline

    def test_a_category_the_form_did_not_offer_is_refused(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "casemanager")
        form = browser.get(f"/zaken/{seeded.case_id}/informatieverzoek").text
        response = browser.post(
            f"/zaken/{seeded.case_id}/informatieverzoek",
            data={
                "csrf_token": csrf_of(form),
                "doel": "intake-assessment",
                "vraag": "mitros|corporation-tenancy",
            },
        )
        assert response.status_code == 422

    def test_a_case_outside_the_partners_team_is_not_found(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seeded = seed_utrecht_case(client, auth)
        sign_in(browser, "mitros", "woonconsulent")
        response = browser.get(f"/zaken/{seeded.case_id}")
        assert response.status_code == 404
        assert seeded.reference not in response.text

    def test_meetings_page_is_dutch(self, browser: TestClient) -> None:
        sign_in(browser, "u-centraal", "casemanager")
        html = browser.get("/overleggen").text
        assert "Casusoverleggen per wijk" in html


class TestPrivacyPages:
    def test_access_report_takes_the_identifier_only_in_a_post_body(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "privacy-officer")
        form = browser.get("/privacy/inzage")
        assert 'method="post" action="/privacy/inzage"' in form.text
        response = browser.post(
            "/privacy/inzage", data={"csrf_token": csrf_of(form.text), "nummer": CAUSER_BSN}
        )
        assert response.status_code == 200
        assert CAUSER_BSN not in response.text
        assert CAUSER_BSN not in str(response.url)
        assert "Inzageverzoek" in response.text

    def test_overview_shows_checkpoint_and_verifies_the_log(
        self, browser: TestClient, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        seed_utrecht_case(client, auth)
        log = context.audit
        log.sign_checkpoint(context.session_factory)
        log.pinned_key = log.signer.note_signer(log.origin).verifier  # KETENPOORT_AUDIT_LOG_KEY
        sign_in(browser, "u-centraal", "privacy-officer")
        page = browser.get("/privacy")
        assert "Laatste ondertekende controlepunt" in page.text
        result = browser.post("/privacy/verificatie", data={"csrf_token": csrf_of(page.text)})
        assert "Het logboek is intact" in result.text

    def test_charts_are_server_rendered_svg(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        for number in range(12, 12 + MIN_GROUP_SIZE):
            seed_utrecht_case(client, auth, house_number=number, causer_bsn=None)
        sign_in(browser, "u-centraal", "privacy-officer")
        # The phases as of the end of last month (the steering report's asOf): the cases
        # opened this month are not in them until the month has ended.
        html = browser.get("/privacy/grafieken").text
        assert "De stand aan het einde van " in html
        assert "Geen open zaken." in html
        with this_month_ended():
            html = browser.get("/privacy/grafieken").text
        assert "Open zaken per fase" in html
        assert "<svg" in html
        assert "Aanmelding</text>" in html  # five cases in the phase: charted
        assert "Fasen met minder dan" not in html  # no phase left out
        assert "<script" not in html

    def test_a_phase_with_fewer_cases_than_the_minimum_is_not_charted(
        self, browser: TestClient, client: TestClient, auth: Auth
    ) -> None:
        """review3 finding 9 on the page: the chart shows the steering report's phases, so
        a phase of one case is left out as in the API (the control is the test above)."""
        seed_utrecht_case(client, auth)
        sign_in(browser, "u-centraal", "privacy-officer")
        with this_month_ended():
            html = browser.get("/privacy/grafieken").text
        assert "Aanmelding</text>" not in html
        # One open case, perturbed (1 to 3; never 0).
        assert re.search(r"[123] open (zaak|zaken); geen fase telt er genoeg om te tonen.", html)
        assert "Fasen met minder dan 5 open zaken zijn weggelaten (1)" in html

    @pytest.mark.parametrize("closed", [1, MIN_GROUP_SIZE])
    def test_the_share_within_the_target_needs_the_minimum_of_closed_cases(
        self,
        browser: TestClient,
        client: TestClient,
        auth: Auth,
        context: GatewayContext,
        closed: int,
    ) -> None:
        """The follow-up to review3 finding 9 on the page: one closed case's share and count
        are null in the report and the page says why, not "no case closed" (1); five are
        charted (the control)."""
        # Closed a minute ago: in this month, the page's period once it has ended (one month
        # since review14; yesterday was last month on the first of a month).
        just_now = utcnow() - timedelta(minutes=1)
        for number in range(12, 12 + closed):
            seeded = seed_utrecht_case(client, auth, house_number=number, causer_bsn=None)
            with transaction(context.session_factory) as session:
                case = session.get_one(CaseFile, seeded.case_id)
                case.state, case.closed_at = "closed", just_now
                case.first_report_at = just_now - timedelta(days=30)
        sign_in(browser, "u-centraal", "privacy-officer")
        with this_month_ended():
            html = browser.get("/privacy/grafieken").text
        assert "nog geen zaak afgesloten" not in html
        # The last month that has ended (review5a F1, review14), named on the page, and
        # that every count is perturbed.
        assert "Over de laatste maand die voorbij is (" in html
        assert "wijkt met opzet hoogstens 2 af van het werkelijke aantal" in html
        if closed < MIN_GROUP_SIZE:
            assert "minder dan 5 zaken afgesloten: te weinig om" in html
            assert "procent binnen de termijn" not in html
        else:
            # The cases within the target are the closed ones: the same cases, the same
            # perturbed count (gateway/cases/cell_key.py), so 100 percent, n of n.
            assert 'aria-label="100 procent binnen de termijn afgesloten"' in html
            shown = re.search(r"(\d+) van (\d+) zaken die van ", html)
            assert shown is not None
            assert shown[1] == shown[2]
            assert near(int(shown[1]), MIN_GROUP_SIZE)

    @pytest.mark.parametrize(
        "path", ["/privacy/verstrekkingen", "/privacy/weigeringen", "/privacy/bewaartermijnen"]
    )
    def test_other_privacy_pages_render_in_dutch(self, browser: TestClient, path: str) -> None:
        sign_in(browser, "u-centraal", "privacy-officer")
        response = browser.get(path)
        assert response.status_code == 200
        assert '<html lang="nl">' in response.text


def test_stylesheets_are_served_from_the_gateway_itself(browser: TestClient) -> None:
    response = browser.get("/statisch/stijl.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert browser.get("/statisch/print.css").status_code == 200
    assert browser.get("/statisch/../config.py").status_code == 404


@pytest.mark.parametrize(
    ("definition", "shown"),
    [
        (SimpleNamespace(description_nl="Zaak in behandeling nemen"), "Zaak in behandeling nemen"),
        (SimpleNamespace(description_nl="  "), "take-on"),
        (SimpleNamespace(description="Decide to take the case on"), "take-on"),
    ],
)
def test_a_transition_is_described_in_dutch_or_by_its_id(definition: object, shown: str) -> None:
    assert transition_description(definition, "take-on") == shown
