"""Dutch words for the ids the covenants and services use in English.

Covenant files already name roles, purposes and data categories in Dutch (a role's name is
read from its covenant: :func:`gateway.web.pages.role_name`); phases, outcomes and activities
are ids, translated here. An unknown id is shown as it is rather than hidden.
"""

from __future__ import annotations

from collections.abc import Callable

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
    "partially-refused": "Deels geweigerd",
    "nothing-disclosed": "Nog niets verstrekt",
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


#: The colour of an outcome's label: green disclosed, amber in part, red refused, grey else.
OUTCOME_COLOURS = {
    "disclosed": "groen",
    "partially-disclosed": "oranje",
    "partially-refused": "oranje",
    "denied": "rood",
}


def outcome_colour(outcome: str | None) -> str:
    return OUTCOME_COLOURS.get(outcome or "", "grijs")


#: What an error page says when the error came from another domain (whose details are the
#: API's English): the status in a Dutch sentence.
ERROR_DETAILS = {
    400: "Dit verzoek is ongeldig.",
    401: "U bent niet (meer) ingelogd. Log opnieuw in.",
    403: "U hebt geen toegang tot deze gegevens of deze handeling.",
    404: "Deze zaak of pagina bestaat niet, of is niet zichtbaar voor uw organisatie.",
    409: "Dit kan niet in de huidige fase of toestand van de zaak.",
    410: "Deze zaak is vernietigd na afloop van de bewaartermijn.",
    422: "Niet alle gegevens zijn (goed) ingevuld. Ga terug en controleer het formulier.",
    503: "Een deel van de gateway is tijdelijk niet beschikbaar. Probeer het later opnieuw.",
}


def error_detail(status: int) -> str:
    return ERROR_DETAILS.get(status, "Er ging iets mis. Probeer het later opnieuw.")


#: Each workflow guard (gateway/cases/guards.py ``GUARDS``) as a case manager reads it when a
#: step is refused (409 guard-failed); tests/web check that every guard has one.
GUARD_TEXTS = {
    "rented-corporation-dwelling": "de woning moet een huurwoning zijn van een "
    "woningcorporatie van dit convenant, met de eigendom vastgelegd",
    "landlord-first": "bij een huurwoning is de verhuurder het eerste aanspreekpunt: de "
    "woningcorporatie neemt de melding eerst op",
    "simple-case": "alleen een enkelvoudige zaak wordt zo bij de gemeente ingebracht",
    "complex-case": "een enkelvoudige zaak gaat eerst naar de gemeente (opschalen naar complex)",
    "criteria-met": "er moeten genoeg criteria van het convenant vastgesteld zijn, of een "
    "spoedbesluit met reden",
    "corporation-dwelling": "de woning moet eigendom zijn van een woningcorporatie",
    "landlord-in-team": "de woningcorporatie moet in het casusteam zitten om de vraag om "
    "toestemming te kunnen zien en beantwoorden",
    "corporation-permission": "de woningcorporatie moet toestemming gegeven hebben (niet "
    "geweigerd, ingetrokken of verlopen)",
    "both-sides-heard": "eerst moeten de veroorzaker en de buren gehoord zijn (hoor en wederhoor)",
    "multidisciplinary-team": "een complexe zaak heeft een team van ten minste twee partners nodig",
    "mediation-allowed": "eerst moet de screening voor buurtbemiddeling vastgelegd zijn",
    "previous-instrument-intention": "een gedragsaanwijzing komt pas na het voornemen tot "
    "een maatregel",
    "measure-fits-ownership": "een laatste-kanscontract is een middel van de "
    "woningcorporatie voor haar eigen huurders",
    "corporation-acts-for-own-tenant": "een woningcorporatie treedt alleen op voor "
    "huurders van haar eigen woningen",
    "breach-established": "eerst moet de overtreding van de gedragsaanwijzing vastgesteld zijn",
    "penalty-within-limits": "de dwangsom moet binnen de grenzen van het convenant blijven",
    "penalty-or-enforcement-applied": "een tijdelijke uithuisplaatsing komt pas na een "
    "dwangsom of bestuursdwang",
    "temporary-eviction-within-limits": "een tijdelijke uithuisplaatsing duurt niet langer "
    "dan het convenant toestaat",
    "evictee-adult": "alleen een meerderjarige kan tijdelijk uit huis geplaatst worden; leg "
    "vast dat de persoon meerderjarig is",
    "extension-within-limits": "de verlenging blijft binnen het aantal dagen dat het "
    "convenant toestaat",
    "permanent-eviction-ground": "een permanente uithuiszetting vraagt een grond: ernstige "
    "wetsovertredingen, of de eerdere stappen hielpen niet (het huisverbod is verlengd of "
    "afgelopen)",
    "grace-period-given": "geef de bewoner een begunstigingstermijn: het aantal dagen (ten "
    "minste 1) waarin de overlast moet ophouden",
    "grace-period-ended": "de begunstigingstermijn uit de waarschuwing of het voornemen moet "
    "eerst verstreken zijn (de einddatum staat bij de termijnen van de zaak als 'Einde "
    "begunstigingstermijn')",
}


def guard_detail(guard: str, source: str) -> str:
    """Why a workflow step was refused, in Dutch, with the convenant section it encodes."""
    why = GUARD_TEXTS.get(guard)
    if why is None:
        return ERROR_DETAILS[409]
    return f"Deze stap kan nog niet: {why} ({source})."


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
    "dwelling-pollution-not-established": (
        "De regiehouder heeft niet vastgelegd dat vervuiling van de woning onderdeel is van de "
        "overlast"
    ),
    "not-dwelling-landlord": "Alleen de verhuurder (corporatie) van deze woning ontvangt dit",
    "not-case-lead": "Alleen de partner met de regie over de zaak ontvangt dit",
    "not-event-recorder": "Alleen de partner die de vereiste gebeurtenis vastlegde ontvangt dit",
    "event-not-recorded": "Een vereiste gebeurtenis in de zaak is niet vastgelegd",
    "investigation-status-unknown": "De politie heeft niet vastgelegd of er een onderzoek loopt",
    "om-consent-missing": "Er loopt een onderzoek en toestemming van het OM ontbreekt",
    "om-consent-expired": "De toestemming van het OM is verlopen",
    "om-consent-condition-not-met": (
        "Niet voldaan aan de voorwaarde van toestemming van het OM (hoe precies weten alleen "
        "de politie en de regiehouder)"
    ),
    "not-available": "De partner heeft hierover geen gegevens",
    "erased": "Vernietigd na afloop van de bewaartermijn",
    "erased-by-retention": "Vernietigd na afloop van de bewaartermijn",
    "not-answered-yet": "Nog niet beantwoord door de partner",
    "not-available-at-partner": "De partner heeft hierover geen gegevens",
    "nothing-on-file": "Er is niets over vastgelegd",
    "answer-form-narrowed": "Vastgelegd in meer detail dan de afspraak nu toestaat (ja of nee)",
    "redacted": "Afgeschermd",
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
    "ground": "Grond",
}

JUDGEMENTS = {
    "resolved": "Opgelost",
    "improved": "Verbeterd",
    "unchanged": "Onveranderd",
    "worse": "Verslechterd",
}


def reason_label(reason: str, event_names: dict[str, str] | None = None) -> str:
    # "event-not-recorded:<event>": the event a clause requires, by the covenant's name.
    code, _, event = reason.partition(":")
    if event and code in REASONS:
        return f"{REASONS[code]}: {(event_names or {}).get(event, event).lower()}"
    return REASONS.get(reason, reason)


def item_state_label(state: str | None) -> str:
    return ITEM_STATES.get(state or "", state or "—")


def consent_label(kind: str) -> str:
    return CONSENT_KINDS.get(kind, kind)


#: Deadlines of the workflows (policies/<covenant-id>/workflow.yaml) and the gateway's own lists.
DEADLINES = {
    "intake-decision": "Besluit of U Centraal de aanmelding oppakt (binnen 5 dagen)",
    "corporation-permission-answer": "Antwoord van de corporatie op de toestemmingsvraag "
    "(binnen 3 dagen)",
    "evaluation-moment": "Vast evaluatiemoment",
    "weigh-report": "Melding wegen (streven: binnen 48 uur)",
    "weigh-complex-report": "Complexe melding wegen",
    "mediation-evaluation": "Bemiddeling evalueren (na 6 weken)",
    "temporary-eviction-ends": "Einde tijdelijke uithuiszetting",
    "grace-period-ends": "Einde begunstigingstermijn (waarschuwing of voornemen)",
    "three-month-target": "Zaak afsluiten binnen 3 maanden na de eerste melding (streefdoel)",
    "retention-erasure": "Dossier wordt vernietigd (bewaartermijn), tenzij er eerder activiteit is",
    "reporter-decision": "Besluiten of de melder aan het zaakteam wordt toegevoegd",
    "district-meeting": "Volgende casusoverleg in de wijk",
}

ACTIVITIES = {
    "case-intake": "Aanmelding vastgelegd",
    "case-team-change": "Zaakteam gewijzigd",
    "case-landlord-change": "Verhuurder van de woning gecorrigeerd",
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
    "information-read": "Antwoorden ingezien",
    "case-fact-recorded": "Gegeven toegevoegd",
    "retention-redaction": "Vernietigd (bewaartermijn)",
    "retention-meeting-redaction": "Verslag casusoverleg vernietigd (bewaartermijn)",
    "key-rotation": "Sleutel vervangen",
    "case-meeting-planned": "Casusoverleg gepland",
    "case-meeting-minutes": "Verslag casusoverleg vastgelegd",
    "case-criteria": "Criteria (U §2) vastgelegd",
    "legal-hold-set": "Bewaarplicht ingesteld",
    "legal-hold-lifted": "Bewaarplicht opgeheven",
    "retention-fact": "Datum voor de bewaartermijn vastgelegd",
}

#: Purposes the gateway records that are no purpose of a covenant file.
PURPOSES = {
    "retention": "Bewaartermijnen",
}


def purpose_label(purpose: str | None, covenant: object) -> str:
    """A purpose by the covenant's name for it, or the gateway's own; "—" for none."""
    if not purpose:
        return "—"
    find = getattr(covenant, "purpose", None)
    found = find(purpose) if callable(find) else None
    if found is not None:
        return str(found.name)
    return PURPOSES.get(purpose, purpose)


def deadline_label(deadline_id: str, fallback: str) -> str:
    """A deadline's Dutch name; an action agreed in a meeting is ``action:<id>``. The
    fallback (the API's English description) only for an id this list does not know."""
    if deadline_id.startswith("action:"):
        return "Actie uit een casusoverleg"
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


def actor_label(actor: str, partner_names: dict[str, str], role_name: Callable[[str], str]) -> str:
    """``partner/role[/user]`` (how holds and logs name who acted) as "U Centraal
    (Privacyfunctionaris)", the role named by the covenant (``role_name``); the user id is
    left out, pages name organisations and roles."""
    partner, _, rest = actor.partition("/")
    role = rest.partition("/")[0]
    name = partner_names.get(partner, partner)
    return f"{name} ({role_name(role)})" if role else name
