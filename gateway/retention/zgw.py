"""The retention model in the archiving terms of ZGW (VNG Zaken API, Open Zaak).

ZGW's archiving works as ours does: a source date (``brondatum``) found in a named way
(``brondatumArchiefprocedure.afleidingswijze``) plus a period (``procestermijn``) gives the
day the dossier is to be destroyed or transferred (``archiefactiedatum``). The mapping, and
where ours has no ZGW counterpart, is in docs/retention.md. Values are VNG's
(vng_api_common.constants: Archiefnominatie, Archiefstatus,
BrondatumArchiefprocedureAfleidingswijze).
"""

from __future__ import annotations

from typing import Literal

from gateway.retention.rules import Period, SourceDateKind, Term

Archiefnominatie = Literal["blijvend_bewaren", "vernietigen"]
Archiefstatus = Literal[
    "nog_te_archiveren", "gearchiveerd", "gearchiveerd_procestermijn_onbekend", "overgedragen"
]
Afleidingswijze = Literal[
    "afgehandeld",
    "ander_datumkenmerk",
    "eigenschap",
    "gerelateerde_zaak",
    "hoofdzaak",
    "ingangsdatum_besluit",
    "termijn",
    "vervaldatum_besluit",
    "zaakobject",
]

#: Both covenants' sources give destruction periods (R §3.4, U §5.2) and none asks for
#: transfer to an archive: every dossier is destroyed on its archiefactiedatum.
ARCHIEFNOMINATIE: Archiefnominatie = "vernietigen"

#: Our source dates as ZGW derives them. ``afgehandeld``: the case's closing date.
#: ``eigenschap``: a date recorded on the case (ours: a retention fact), named by the
#: datumkenmerk. ``ingangsdatum_besluit``: a sanction is an administrative decision (besluit)
#: and its date is when it was imposed.
AFLEIDINGSWIJZE: dict[SourceDateKind, Afleidingswijze] = {
    "case-closed": "afgehandeld",
    "mediation-ended": "eigenschap",
    "resident-moved-out": "eigenschap",
    "recorded-date": "eigenschap",
    "last-sanction-imposed": "ingangsdatum_besluit",
    # An open case without activity (openCases): the date of its last activity, a property
    # of the case other than its closing.
    "last-activity": "ander_datumkenmerk",
}


def afleidingswijze(term: Term) -> tuple[Afleidingswijze, str | None]:
    """ZGW's afleidingswijze of a term and its datumkenmerk (the property holding the date)."""
    kind = AFLEIDINGSWIJZE[term.source_date]
    if kind == "afgehandeld":
        return kind, None
    return kind, term.name if term.source_date == "recorded-date" else term.source_date


def archiefstatus(status: str) -> Archiefstatus | None:
    """A dossier we keep is ``nog_te_archiveren`` until it is destroyed; ZGW has no status
    for a destroyed dossier (Open Zaak deletes the zaak), so an erased case has none."""
    return None if status == "erased" else "nog_te_archiveren"


def procestermijn(period: Period) -> str:
    """The period as an ISO 8601 duration, as ZGW writes ``procestermijn`` (``P1Y``)."""
    parts = [(period.years, "Y"), (period.months, "M"), (period.days, "D")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    return f"P{text or '0D'}"
