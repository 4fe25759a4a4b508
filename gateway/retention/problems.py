"""The 410 ``case-erased`` as each reader may read it (review11 N1).

An erased case answers 410 on every route that reaches it (the exchange, the cases domain's
writes, retention's own), raised where the erasure is found, which is not where the reader
and the rules are known (``lock_for_write``, the exchange's hot loaders). So it is rendered
here, once for all of them: the rule it went under, and the day, unless the rule is chosen
by sanctions whose landlord's measures the reader could not be shown
(gateway/retention/sanctions.py, the rule the case's retention state uses). Then the body
names neither (``ruleId`` and ``erasedAt`` null), the same whether the case held a measure
or not. The open-case rule of a covenant that counts the landlord's measures is named to
such a reader without the day (``erasedAt`` null): the erasure came with the first sweep
from its due date, a year after the last activity, which can be a measure. Fail closed: no
principal on the request, or the check failing, withholds.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.context import GatewayContext
from gateway.core.problem import problem_response
from gateway.retention.errors import CaseErased
from gateway.retention.sanctions import (
    ERASURE_WITHHELD_REASON,
    erased_day_withheld_reason,
    erased_withheld,
)

log = logging.getLogger("ketenpoort.retention")


def _withheld(request: Request, exc: CaseErased) -> Literal["nothing", "day", "rule"]:
    principal = getattr(request.state, "principal", None)
    context: GatewayContext | None = getattr(request.app.state, "context", None)
    if principal is None or context is None:
        return "rule"
    retention = context.retention
    try:
        with context.session_factory() as session:
            return erased_withheld(
                session,
                rules=retention.rules if retention is not None else None,
                runtime=context.cases,
                reader=principal,
                case_id=exc.case_id,
                rule_id=exc.rule_id,
            )
    except Exception:  # noqa: BLE001 - any failure of the check withholds (fail closed)
        # Not only the database: a rule file or case runtime that does not answer the
        # question would otherwise turn the 410 into a 500 (review of d08e9a0).
        log.warning("case-erased: the reader's view could not be read; rule withheld")
        return "rule"


def case_erased(request: Request, exc: Exception) -> JSONResponse:
    """Sync: Starlette runs it in a worker thread, as it reads the database."""
    assert isinstance(exc, CaseErased)
    withheld = _withheld(request, exc)
    extra: dict[str, Any]
    if withheld == "rule":
        detail, extra = ERASURE_WITHHELD_REASON, {"ruleId": None, "erasedAt": None}
    elif withheld == "day":
        detail = erased_day_withheld_reason(exc.rule_id)
        extra = {"ruleId": exc.rule_id, "erasedAt": None}
    else:
        detail, extra = exc.detail, exc.extra
    return problem_response(exc.status, exc.title, detail, problem=exc.problem, extra=extra)


def install(app: FastAPI) -> None:
    """Before any route raises it: the most specific handler answers (Starlette's MRO)."""
    app.add_exception_handler(CaseErased, case_erased)
