"""Dutch words for the ids the covenants and services use in English.

Covenant files already name purposes and data categories in Dutch; roles, phases, outcomes
and activities are ids, translated here. An unknown id is shown as it is rather than hidden.
"""

from __future__ import annotations

ROLES = {
    "casemanager": "Casemanager",
    "wijkagent": "Wijkagent",
    "woonconsulent": "Woonconsulent",
    "buurtteam-medewerker": "Medewerker buurtteam",
    "gebiedsmanager": "Gebiedsmanager",
    "woonbegeleider": "Woonbegeleider",
    "zorgmedewerker": "Zorgmedewerker",
    "bemiddelaar": "Bemiddelaar",
    "brandweer-medewerker": "Medewerker brandweer",
    "privacy-officer": "Privacyfunctionaris",
    "adapter": "Koppeling (systeem)",
}

PHASES = {
    # Utrecht (U §5.1)
    "intake": "Aanmelding",
    "permission-requested": "Toestemming corporatie gevraagd",
    "plan-of-approach": "Plan van aanpak",
    "execution": "Uitvoering",
    "final-evaluation": "Eindevaluatie",
    "aftercare": "Nazorg",
    "closed": "Afgesloten",
    # Rijswijk (R Bijlage B-D)
    "own-approach": "Eigen aanpak partner",
    "multi-intake": "Multi-intake gemeente",
    "weighing": "Weging melding (fase 1)",
    "mediation": "Bemiddeling (fase 2a)",
    "integrated-approach": "Integrale aanpak (fase 2b)",
    "warning": "Waarschuwing (fase 3)",
    "corporation-measures": "Overgedragen aan de woningcorporatie",
    "behavioural-order": "Gedragsaanwijzing (fase 4a)",
    "penalty-enforcement": "Dwangsom / bestuursdwang (fase 4b)",
    "temporary-eviction": "Tijdelijke uithuiszetting (fase 4c)",
    "permanent-eviction": "Definitieve uithuiszetting",
    "aftercare-evaluation": "Nazorg en evaluatie",
}

OUTCOMES = {
    "disclose": "Verstrekt",
    "disclosed": "Verstrekt",
    "redact": "Afgeschermd",
    "redacted": "Afgeschermd",
    "deny": "Geweigerd",
    "denied": "Geweigerd",
    "partial": "Deels verstrekt",
    "partially-disclosed": "Deels verstrekt",
    "recorded": "Vastgelegd",
    "failed": "Mislukt",
    "success": "Gelukt",
    "failure": "Mislukt",
    "error": "Fout",
}

ERROR_TITLES = {
    400: "Ongeldig verzoek",
    401: "Niet ingelogd",
    403: "Geen toegang",
    404: "Niet gevonden",
    409: "Niet mogelijk in deze fase",
    422: "Controleer uw invoer",
    503: "Tijdelijk niet beschikbaar",
}


def role_label(role: str | None) -> str:
    return ROLES.get(role or "", role or "—")


def phase_label(phase: str | None) -> str:
    return PHASES.get(phase or "", phase or "—")


def outcome_label(outcome: str | None) -> str:
    return OUTCOMES.get(outcome or "", outcome or "—")


def error_title(status: int) -> str:
    return ERROR_TITLES.get(status, "Er ging iets mis")


REASONS = {
    "unknown-covenant": "Onbekend convenant",
    "unknown-partner": "Onbekende partner",
    "role-not-held-by-partner": "Deze rol hoort niet bij de vragende partner",
    "unknown-purpose": "Onbekend doel",
    "unknown-phase": "Onbekende fase van de zaak",
    "unknown-category": "Onbekende gegevenscategorie",
    "role-not-recipient": "Uw rol mag deze gegevens niet ontvangen",
    "purpose-not-allowed": "Dit doel is voor deze gegevens niet toegestaan",
    "phase-not-allowed": "In deze fase van de zaak niet toegestaan",
    "not-in-case-team": "De vragende partner zit niet in het zaakteam",
    "corporation-permission-missing": "Toestemming van de corporatie ontbreekt",
    "police-not-in-case-team": "De politie zit niet in het zaakteam",
    "not-dwelling-landlord": "Alleen de verhuurder (corporatie) van deze woning ontvangt dit",
    "not-case-lead": "Alleen de partner met de regie over de zaak ontvangt dit",
    "not-event-recorder": "Alleen de partner die de vereiste gebeurtenis vastlegde ontvangt dit",
    "event-not-recorded": "Een vereiste gebeurtenis in de zaak is niet vastgelegd",
    "investigation-status-unknown": "De politie heeft niet vastgelegd of er een onderzoek loopt",
    "om-consent-missing": "Er loopt een onderzoek en toestemming van het OM ontbreekt",
    "om-consent-expired": "De toestemming van het OM is verlopen",
    "not-available": "De partner heeft hierover geen gegevens",
    "erased": "Vernietigd na afloop van de bewaartermijn",
    "not-answered-yet": "Nog niet beantwoord door de partner",
}

ITEM_STATES = {
    "asked": "Gevraagd, nog geen antwoord",
    "denied": "Geweigerd bij het verzoek",
    "answered": "Beantwoord",
    "withheld": "Achtergehouden bij het antwoord",
    "not-available": "Niet beschikbaar bij de partner",
    "open": "Open",
    "partially-answered": "Deels beantwoord",
}

CONSENT_KINDS = {
    "corporation-permission": "Toestemming corporatie (U §5.1)",
    "om-consent": "Toestemming Openbaar Ministerie (U §5.3)",
}

FACTS = {
    "reason": "Toelichting",
    "oggz-check": "OGGZ-toets",
    "both-sides-heard": "Hoor en wederhoor toegepast",
    "mediation-screening": "Toets geschiktheid bemiddeling",
    "breach-established": "Overtreding vastgesteld",
    "amount-eur": "Bedrag (euro)",
    "days": "Aantal dagen",
    "measure": "Maatregel",
    "result": "Resultaat",
    "adult": "Meerderjarig",
}

JUDGEMENTS = {
    "resolved": "Opgelost",
    "improved": "Verbeterd",
    "unchanged": "Onveranderd",
    "worse": "Verslechterd",
}


def reason_label(reason: str) -> str:
    # "event-not-recorded:<event>": the event a clause requires, named.
    code, _, event = reason.partition(":")
    if event and code in REASONS:
        return f"{REASONS[code]} ({event})"
    return REASONS.get(reason, reason)


def item_state_label(state: str | None) -> str:
    return ITEM_STATES.get(state or "", state or "—")


def consent_label(kind: str) -> str:
    return CONSENT_KINDS.get(kind, kind)


#: Deadlines of the workflows (policies/workflows/*.yaml) and the gateway's own lists.
DEADLINES = {
    "intake-decision": "Besluit of U Centraal de aanmelding oppakt (binnen 5 dagen)",
    "corporation-permission-answer": "Antwoord van de corporatie op de toestemmingsvraag "
    "(binnen 3 dagen)",
    "evaluation-moment": "Vast evaluatiemoment",
    "weigh-report": "Melding wegen (streven: binnen 48 uur)",
    "weigh-complex-report": "Complexe melding wegen",
    "mediation-evaluation": "Bemiddeling evalueren (na 6 weken)",
    "temporary-eviction-ends": "Einde tijdelijke uithuiszetting",
    "close-within-target": "Zaak afsluiten binnen 3 maanden na de eerste melding",
    "retention-erasure": "Dossier wordt vernietigd (bewaartermijn), tenzij er eerder activiteit is",
    "reporter-decision": "Besluiten of de melder aan het zaakteam wordt toegevoegd",
}

ACTIVITIES = {
    "case-intake": "Aanmelding vastgelegd",
    "case-team-change": "Zaakteam gewijzigd",
    "case-reporter-decision": "Besluit over melder in zaakteam",
    "case-notice-read": "Bericht gelezen",
    "access-report": "Inzageverzoek uitgevoerd",
    "case-investigation-status": "Onderzoeksstatus politie",
    "case-event": "Gebeurtenis in de zaak vastgelegd",
    "workflow-transition": "Fase gewijzigd",
    "consent-change": "Toestemming gewijzigd",
    "information-request": "Informatieverzoek",
    "information-answer": "Antwoord van partner",
    "disclosure": "Verstrekking",
    "denial": "Weigering",
    "case-fact-recorded": "Gegeven toegevoegd",
    "retention-redaction": "Vernietigd (bewaartermijn)",
    "key-rotation": "Sleutel vervangen",
    "case-meeting-planned": "Casusoverleg gepland",
}


def deadline_label(deadline_id: str, fallback: str) -> str:
    return DEADLINES.get(deadline_id, fallback)


def activity_label(activity: str) -> str:
    return ACTIVITIES.get(activity, activity)


def transition_description(definition: object, transition_id: str) -> str:
    """A transition as the pages show it: the workflow file's Dutch description
    (``descriptionNl``) where it has one, otherwise the transition id. The ``description``
    field is English, the API's language, so pages never show it."""
    text = getattr(definition, "description_nl", None)
    if isinstance(text, str) and text.strip():
        return text.strip()
    return transition_id
