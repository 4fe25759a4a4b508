"""Is a page's visible text Dutch? (issue 23: every user-facing string on the pages is
Dutch.) Two checks on the text a user sees, not on the markup: English words from a list of
words that are not also Dutch, and kebab-case identifiers (``case-criteria``,
``not-answered-yet``), the ids the code, covenants and API use. Dutch words with a hyphen
that the covenant files use are allowed by name; a tooltip (``title``) may carry an id."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: English words that are not also Dutch words ("is", "in", "of", "open", "partner",
#: "status", "team", "district" and "over" are both, so they are not here).
_ENGLISH_WORDS = """
    the and to with for from this that these those not yet no yes none null true false
    case cases meeting meetings next month months year years day days closed
    request requests answer answered answers denied disclosed disclosure redacted
    partially recorded failed failure default due reason reasons rule rules erased legal
    missing unknown consent purpose category categories error until since after before
    kept while when which who your you has have been was were will would should there
    their it its an at or by be on activity outcome phase role police report reports
    evidence hold verified checkpoint checkpoints entries entry line lines signed
"""
ENGLISH = frozenset(_ENGLISH_WORDS.split())

#: Dutch words written with a hyphen on the pages (category names of the covenant files).
DUTCH_HYPHENATED = frozenset({"politie-inzet"})

#: A kebab-case token; not a part of a path or host name (``ketenpoort.example/audit-log``,
#: the log's origin, is a name an operator configures, not an English word).
KEBAB = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w/.-])")
UUID_ANYWHERE = re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b")
WORD = re.compile(r"[A-Za-z]+")
HEX = re.compile(r"\b(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b")
#: A case number (gateway/cases/intake.py): its random part is upper-case hex ("64BE27").
CASE_NUMBER = re.compile(r"\b[A-Z]{3}-\d{4}-[0-9A-F]{6}\b")


class _VisibleText(HTMLParser):
    """Text nodes outside <head>, <script> and <style>: what a browser shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "script", "style", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style", "title") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_in(text: str) -> list[str]:
    """The English words and identifiers in ``text`` (a page's visible text), each once."""
    found: list[str] = []
    text = UUID_ANYWHERE.sub(" ", text)  # decision and record ids are no words
    text = CASE_NUMBER.sub(" ", text)  # nor is "BE" in the case number UTR-2026-64BE27
    for token in KEBAB.findall(text):
        if token not in DUTCH_HYPHENATED:
            found.append(token)
    # Hashes and key ids are hex: their letter runs ("be", "ad") are no words.
    without_ids = HEX.sub(" ", KEBAB.sub(" ", text))
    found += [w for w in WORD.findall(without_ids) if w.lower() in ENGLISH]
    return sorted(set(found))
