"""The privacy officers' "Verificatie" in plain Dutch: what was checked, against which keys
and witnesses, and what came out, as ``ketenpoort audit verify`` decides it (exit code 0 only
when everything verifies and every entry is witnessed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from audit.verification import Checked

Status = Literal["intact", "nog-niet-getuigd", "niet-intact", "niet-uitgevoerd"]

#: Each kind of problem ``audit verify`` names, in words.
PROBLEMS = {
    "changed": "een regel of de ondertekende boomwortel is gewijzigd",
    "missing": "er ontbreken regels",
    "reordered": "regels staan niet meer op hun plaats",
    "bad-signature": "een controlepunt is niet ondertekend met de sleutel van het logboek",
    "malformed": "een regel is onleesbaar",
    "search-column": "een zoekkolom wijkt af van de ondertekende inhoud",
    "missing-checkpoint": "een controlepunt is verwijderd",
    "witness": "een getuige is zijn stand kwijt of teruggezet naar een oudere stand",
    "key-rotation": "de sleutel van het logboek is vervangen zonder aankondiging",
    "backdated": "een regel draagt een tijd van vóór een controlepunt dat hem nog niet bevatte "
    "(teruggedateerd)",
}


@dataclass(frozen=True)
class VerificationView:
    status: Status
    headline: str
    #: What was checked, one sentence each.
    checked: list[str] = field(default_factory=list)
    #: What was found wrong, one line each (the kind in words, then the technical detail).
    problems: list[str] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return self.status == "intact"


def not_verified(reason: str) -> VerificationView:
    return VerificationView("niet-uitgevoerd", f"Niet gecontroleerd. {reason}")


def _what_was_checked(checked: Checked) -> list[str]:
    trust, result = checked.trust, checked.result
    key = trust.log_key
    lines = [
        f"Elke regel van het logboek ({result.entries}): de vingerafdruk (hash) opnieuw "
        "berekend uit de opgeslagen inhoud, en de plaats van de regel in het logboek.",
        "De zoekkolommen van elke regel (convenant, partij, uitkomst, betrokkene, …) tegen de "
        "ondertekende inhoud: zoeken en inzageverzoeken geven anders een verkeerd antwoord.",
        f"Elk controlepunt ({result.checkpoints}): de handtekening met de vastgelegde sleutel "
        f"van het logboek ({key.name if key else '?'}, sleutel {checked.key_ids[0][:16]}…)"
        if checked.key_ids
        else "Elk controlepunt: de handtekening met de vastgelegde sleutel van het logboek.",
    ]
    if checked.rotations:
        lines.append(
            f"De sleutel is {checked.rotations} keer vervangen, telkens aangekondigd in een "
            "controlepunt dat met de vorige sleutel is ondertekend en door de getuigen is "
            f"medeondertekend; de huidige sleutel is {checked.key_ids[-1][:16]}…."
        )
    names = [w.name for w in trust.witness_keys]
    if names:
        lines.append(
            f"De medeondertekeningen van de getuigen ({', '.join(names)}) met hun eigen "
            f"sleutels; een controlepunt telt als getuigd met {trust.quorum} van de "
            f"{len(names)}."
        )
        for holding in checked.holdings:
            held = (
                f"bewaart een controlepunt over {holding.tree_size} regels; het logboek moet "
                "dat nog precies zo bevatten"
                if holding.tree_size is not None
                else "bewaart nog geen controlepunt van dit logboek"
            )
            lines.append(f"Getuige {holding.name} is nu gevraagd wat hij bewaart: {held}.")
    else:
        lines.append(
            "Er zijn geen getuigen ingesteld: niemand buiten de gateway staat in voor het logboek."
        )
    return lines


def verification_view(checked: Checked) -> VerificationView:
    result = checked.result
    lines = _what_was_checked(checked)
    if not result.ok:
        first = result.first_problem
        problems = [f"{PROBLEMS.get(p.kind, p.kind)}: {p}" for p in result.problems]
        what = PROBLEMS.get(first.kind, first.kind) if first is not None else ""
        return VerificationView(
            "niet-intact", f"Het logboek is NIET intact: {what}.", lines, problems
        )
    if result.unwitnessed:
        # The newest lines always wait for the next checkpoint: say so, and why that is
        # normal, so a privacy officer does not read it as damage (issue 23).
        if result.witnessed_tree_size == 0:
            open_part = f"Nog geen van de {result.entries} regels " + (
                "is door de getuigen medeondertekend"
                if result.quorum
                else "valt onder een ondertekend controlepunt"
            )
        else:
            newest = (
                "De nieuwste regel"
                if result.unwitnessed == 1
                else f"De nieuwste {result.unwitnessed} regels"
            )
            open_part = f"{newest} (na regel {result.witnessed_tree_size}) " + (
                "zijn nog niet door de getuigen medeondertekend"
                if result.quorum
                else "vallen nog niet onder een ondertekend controlepunt"
            )
        return VerificationView(
            "nog-niet-getuigd",
            f"Geen fouten gevonden in alle {result.entries} regels. {open_part}. "
            "Dat is normaal: de gateway "
            "ondertekent regelmatig een nieuw controlepunt en het volgende neemt ze mee, "
            "meestal binnen enkele minuten. Tot dan kan wie de database beheert die regels "
            "ongemerkt wijzigen of weghalen; controleer daarna opnieuw.",
            lines,
        )
    witnessed = (
        f"door {result.quorum} getuige(n) medeondertekend tot regel {result.witnessed_tree_size}"
        if result.quorum
        else "zonder getuigen"
    )
    return VerificationView(
        "intact",
        f"Het logboek is intact: {result.entries} regels gecontroleerd tegen "
        f"{result.checkpoints} controlepunten, {witnessed}.",
        lines,
    )
