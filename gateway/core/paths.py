"""Path parameters more than one domain's routes take, so each is declared once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

#: Ids in paths (cases, meetings, consents, partners): no personal data fits this pattern.
ID_PATTERN = r"^[A-Za-z0-9-]+$"

CaseId = Annotated[str, Path(alias="caseId", max_length=36, pattern=ID_PATTERN)]
