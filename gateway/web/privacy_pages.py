"""Pages for privacy officers: the audit log's verification status and latest signed
checkpoint, disclosure search, denials, the data-subject access report, retention due dates
and legal holds, and charts. Each reads through the audit, cases or retention services."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from audit.verification import CannotVerify, Trust
from gateway.audit import checkpoints
from gateway.audit import reports as audit_reports
from gateway.audit.verification import verify_stored
from gateway.cases import overview as case_overview
from gateway.cases import references
from gateway.cases.steering import report_window
from gateway.cases.subjects import subject_roles
from gateway.core.dutch_date import DUTCH_TIME, dutch_today
from gateway.core.errors import Forbidden, Unprocessable
from gateway.core.schemas import EARLIEST, LATEST, check_date
from gateway.core.urls import LOG_POSITION
from gateway.db import utcnow
from gateway.retention.service import retention_overview
from gateway.web import charts, texts
from gateway.web.logbook import access_report_lines, log_page, log_reader
from gateway.web.pages import CsrfChecked, PageRoute, PageState, PrivacyPage
from gateway.web.retention_view import retention_rows
from gateway.web.verification import VerificationView, not_verified, verification_view

router = APIRouter(route_class=PageRoute)
logger = logging.getLogger("ketenpoort.web")

#: A search field: as the API's (``EntrySearch``, ``district``), no control character; NUL
#: reached the database and failed PostgreSQL's text (a 500, review8c F1). Empty is allowed
#: (a form's blank field: no filter).
Text = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _latest_checkpoint(page: PageState) -> Any:
    row = checkpoints.latest_checkpoint(page.db)
    return checkpoints.checkpoint_view(row) if row is not None else None


@router.get("/privacy")
def privacy_overview(page: PrivacyPage) -> Response:
    return page.render("privacy.html", checkpoint=_latest_checkpoint(page), verification=None)


def _verify(page: PageState) -> VerificationView:
    """The verification ``ketenpoort audit verify`` runs with the configured log key, witnesses
    and quorum (audit.verification), never with the key directory's key: whoever can rewrite
    the log can replace that key too, and a check against it proves nothing."""
    log = page.context.audit
    if log.pinned_key is None:
        return not_verified(
            "De sleutel van het logboek is niet vastgelegd in de configuratie "
            "(KETENPOORT_AUDIT_LOG_KEY). Zonder die vastgelegde sleutel bewijst een controle "
            "niets: wie het logboek kan herschrijven, kan ook de sleutel in de sleutelmap "
            "vervangen. Vraag de beheerder de gepubliceerde sleutel in te stellen."
        )
    witnessing = log.witnessing
    trust = Trust(
        log_key=log.pinned_key,
        witnesses=list(witnessing.witnesses) if witnessing is not None else [],
        quorum=log.quorum,
    )
    try:
        checked = verify_stored(
            page.context.session_factory,
            trust,
            http=witnessing.http if witnessing is not None else None,
        )
    except CannotVerify as exc:
        return not_verified(
            "De controle kon niet worden uitgevoerd: een getuige die niet te bereiken is, "
            f"bewijst niets. ({exc})"
        )
    except Exception:
        # A verification that breaks off proves nothing either: never an error page in its
        # place, where the officer would not even learn that (review8b F3). The cause goes
        # to the log (its message names no entry's content).
        logger.exception("verifying the audit log broke off")
        return not_verified(
            "De controle brak af door een onverwachte fout (de beheerder vindt de oorzaak in "
            "het logboek van de gateway). Een controle die niet afloopt, bewijst niets."
        )
    return verification_view(checked)


@router.post("/privacy/verificatie")
def verify_audit_log(page: CsrfChecked) -> Response:
    _require_privacy_officer(page)
    verification = _verify(page)
    return page.render(
        "privacy.html",
        checkpoint=_latest_checkpoint(page),
        verification=verification,
        verified=True,
    )


def _require_privacy_officer(page: PageState) -> None:
    if not page.require_principal().grant.audits:
        raise Forbidden("Deze pagina is alleen voor privacyfunctionarissen.")


def _period_start(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = check_date(date.fromisoformat(value))
    except ValueError:
        # Out of EARLIEST..LATEST too: at the calendar's ends the search's moments overflowed
        # (a 500, review6a F5).
        raise Unprocessable(
            f"Vul een datum in als jjjj-mm-dd, tussen {EARLIEST} en {LATEST}."
        ) from None
    return datetime.combine(day, time(0), tzinfo=DUTCH_TIME)


def _search_filters(
    page: PageState,
    zaak: str | None,
    partner: str | None,
    doel: str | None,
    artikel: str | None,
    van: str | None,
    tot: str | None,
) -> dict[str, Any]:
    until = _period_start(tot)
    return {
        "caseId": _case_id(page, zaak),
        "partnerId": partner or None,
        "purpose": doel or None,
        "clauseId": artikel or None,
        "from": _period_start(van),
        "until": until + timedelta(days=1) if until else None,
    }


def _case_id(page: PageState, zaak: str | None) -> str | None:
    """The case asked for, by its number (``UTR-2026-…``, what people know) or its id; a
    number of no case of this covenant matches nothing, it is not ignored."""
    if not zaak or not zaak.strip():
        return None
    principal = page.require_principal()
    found = references.case_id_of(
        page.db,
        covenant_id=principal.covenant_id,
        partner_id=audit_reports.accountable_partner(principal),
        number=zaak,
    )
    return found or zaak.strip()


Cursor = Annotated[int | None, Query(ge=-1, le=2**62), LOG_POSITION]


def _list_page(
    page: PageState,
    *,
    template_values: dict[str, Any],
    filters: dict[str, Any],
    refusals_only: bool,
    ouder: int | None,
    nieuwer: int | None,
) -> Response:
    found = log_page(
        page, filters, refusals_only=refusals_only, older_than=ouder, newer_than=nieuwer
    )
    form = template_values["form"]
    query = {k: v for k, v in form.items() if v}
    return page.render(
        "verstrekkingen.html",
        found=found,
        query=query,
        refusals_only=refusals_only,
        **template_values,
    )


@router.get("/privacy/verstrekkingen")
def disclosure_search(
    page: PrivacyPage,
    zaak: Text = None,
    partner: Text = None,
    doel: Text = None,
    artikel: Text = None,
    van: Text = None,
    tot: Text = None,
    ouder: Cursor = None,
    nieuwer: Cursor = None,
) -> Response:
    """Entries that disclosed or refused something, newest first, a page at a time."""
    form = {
        "zaak": zaak,
        "partner": partner,
        "doel": doel,
        "artikel": artikel,
        "van": van,
        "tot": tot,
    }
    return _list_page(
        page,
        template_values={
            "form": form,
            "heading": "Verstrekkingen",
            "action": "/privacy/verstrekkingen",
        },
        filters=_search_filters(page, zaak, partner, doel, artikel, van, tot),
        refusals_only=False,
        ouder=ouder,
        nieuwer=nieuwer,
    )


@router.get("/privacy/weigeringen")
def denials(
    page: PrivacyPage,
    van: Text = None,
    tot: Text = None,
    partner: Text = None,
    ouder: Cursor = None,
    nieuwer: Cursor = None,
) -> Response:
    """Entries in which a decision withheld at least one category: whole and partial
    refusals; a category still awaiting its answer is none (issue 23)."""
    return _list_page(
        page,
        template_values={
            "form": {"partner": partner, "van": van, "tot": tot},
            "heading": "Weigeringen",
            "action": "/privacy/weigeringen",
        },
        filters=_search_filters(page, None, partner, None, None, van, tot),
        refusals_only=True,
        ouder=ouder,
        nieuwer=nieuwer,
    )


@router.get("/privacy/inzage")
def access_request_form(page: PrivacyPage) -> Response:
    return page.render("inzage.html", report=None)


@router.post("/privacy/inzage")
def access_report(
    page: CsrfChecked,
    soort: Annotated[str, Form(max_length=50)] = "bsn",
    nummer: Annotated[str, Form(min_length=1, max_length=200)] = "",
) -> Response:
    """The identifier arrives in a POST body only and is never echoed into a URL or log."""
    _require_privacy_officer(page)
    if soort != "bsn":
        raise Unprocessable("Kies een soort nummer uit de lijst.")

    log = page.context.audit
    officer = page.require_principal()
    started = utcnow()
    # Only the keyed pseudonym reaches the query; the identifier is not kept or logged.
    subject = log.data_subject(identifier_type=soort, identifier=nummer.strip())
    reader = log_reader(page)
    report = audit_reports.access_report(
        page.db,
        reader=reader,
        covenant=page.context.covenants[officer.covenant_id],
        subject_pseudonym=subject.pseudonym,
        identifier_type=soort,
        subject_roles=subject_roles(page.db, log, subject),
        retention_rule_ids=(
            page.context.retention.rules.rule_ids(officer.covenant_id)
            if page.context.retention is not None
            else frozenset()
        ),
    )
    # Audited like the API's: no entry, no report (an audit failure rolls back).
    log.append(
        session=page.db,
        entry=audit_reports.access_report_entry(
            covenant_id=officer.covenant_id,
            officer=log.actor(officer),
            subject=subject,
            report=report,
            started_at=started,
            channel="web",
        ),
    )
    return page.render(
        "inzage.html",
        report=report,
        lines=access_report_lines(report),
        soort=soort,
    )


@router.get("/privacy/bewaartermijnen")
def retention_page(page: PrivacyPage) -> Response:
    retention = page.context.retention
    overview = retention_overview(
        session=page.db,
        principal=page.require_principal(),
        rules=retention.rules if retention is not None else None,
        runtime=page.context.cases,
    )
    rows = retention_rows(page.context, page.require_principal().covenant_id, overview)
    return page.render("bewaartermijnen.html", overview=overview, rows=rows)


MAANDEN = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def month_name(day: date) -> str:
    """ "november 2026"."""
    return f"{MAANDEN[day.month - 1]} {day.year}"


@router.get("/privacy/grafieken")
def charts_page(page: PrivacyPage) -> Response:
    principal = page.require_principal()
    today = dutch_today()
    year_ago = today - timedelta(days=365)
    # The steering figures over the last month that has ended, as the API's default
    # (review5a F1, review14: a month, quarter or year, gateway/cases/steering.py), perturbed
    # as the API's (a privacy officer of a reading partner is a partner's reader too).
    period_from, period_to = report_window(page.context.cases.today(principal.covenant_id))
    # The steering figures only for the partners the covenant gives them to (review9a F4:
    # U §8 the steering group, R §4.3 every partner), as GET /v1/steering-report; the
    # partner's own requests and denials below are its privacy officer's in any case.
    steering = case_overview.reads_steering_report(
        page.context.cases, principal.covenant_id, principal.partner_id
    )
    figures = (
        case_overview.steering_report(
            page.db,
            runtime=page.context.cases,
            covenant_id=principal.covenant_id,
            period_from=period_from,
            period_to=period_to,
        )
        if steering
        else None
    )
    per_partner = audit_reports.partner_activity(
        page.db,
        reader=log_reader(page),
        period="month",
        since=datetime.combine(year_ago, time(0), tzinfo=DUTCH_TIME),
        until=None,
    )
    return page.render(
        "grafieken.html",
        phases=charts.bars(dict(figures.open_by_phase), label=texts.phase_label)
        if figures is not None
        else None,
        figures=figures,
        stuurgroep=", ".join(
            p.name for p in page.context.covenants[principal.covenant_id].steering_readers()
        ),
        periode=f"{month_name(period_from)} tot en met {month_name(period_to)}",
        # The state figures are as of the period's end (figures.as_of), not today.
        stand=month_name(period_to),
        per_partner=charts.partner_months(per_partner.rows),
    )
