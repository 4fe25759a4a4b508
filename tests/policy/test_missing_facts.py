"""Unknown is not no, for every fact the policy reads: the same request with one fact missing
(deleted, or null) never discloses a category the complete request does not disclose, on the
production engines (regorus's RVM, embedded; OPA's own Go evaluator, as the OPA server).

The requests are the differential test's (tests/policy/test_differential.py): most start
from one a clause allows, so the complete request discloses often. Each fact is taken away
in turn: the team, the dwelling and its ownership and landlord, the lead, the events, the
consents, whether an investigation runs, whether the lead recorded pollution of the dwelling
(U §5.4), the requester's partner, the clock, the case id; and whether an investigation runs
is also given as the non-booleans "false" and 0, and pollution as "true", 1 and false. An
engine error counts as a denial (the gateway denies on one: gateway/policy/engine.py).

A check that never sees a disclosure proves nothing, so the run must disclose in at least a
third of the complete requests, and taking a fact away must withhold something in many
of them (the conditions really read those facts); both proportions are printed. A written
review of the Rego found each condition fails on a missing fact; this keeps it so when the
policy is rewritten for speed (issue 20 did)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.policy.conftest import loaded_engine
from tests.policy.test_differential import SEED, generate, generate_several

Doc = dict[str, Any]

PATHS = [
    ("case", "team"),
    ("case", "dwelling"),
    ("case", "dwelling", "ownership"),
    ("case", "dwelling", "corporation"),
    ("case", "lead"),
    ("case", "events"),
    ("consents",),
    ("case", "policeInvestigation"),
    ("case", "dwellingPollution"),
    ("requester", "partner"),
    ("now",),
    ("case", "id"),
]


def _without(doc: Doc, path: tuple[str, ...], value: object) -> Doc | None:
    """``doc`` with the fact at ``path`` deleted (``value`` is ``_DELETE``) or replaced;
    None when the request has no such fact."""
    changed = copy.deepcopy(doc)
    parent: Any = changed
    for key in path[:-1]:
        if not isinstance(parent, dict) or key not in parent:
            return None
        parent = parent[key]
    if not isinstance(parent, dict) or path[-1] not in parent:
        return None
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


_DELETE = object()


def _disclosed(evaluate: Callable[[Doc], Any], doc: Doc) -> set[str]:
    try:
        result = evaluate(doc)
    except BaseException:  # noqa: BLE001 - an engine error is a denial in the gateway
        return set()
    if not isinstance(result, dict):
        return set()
    categories = result.get("categories") or {}
    return {c for c, verdict in categories.items() if verdict.get("outcome") == "disclose"}


@pytest.mark.parametrize("engine_name", ["regorus", "opa-go"])
def test_a_missing_fact_never_discloses_more(
    engine_name: str, record_property: Callable[[str, object], None]
) -> None:
    engine = loaded_engine(engine_name)
    requests = [g.request.document() for g in generate(200, SEED)]
    requests += [g.request.document() for g in generate_several(60, SEED)]
    more: list[str] = []
    complete_disclosing = withheld = variants = 0
    for number, doc in enumerate(requests):
        before = _disclosed(engine._evaluate, doc)
        complete_disclosing += bool(before)
        changes = [(path, how) for path in PATHS for how in (_DELETE, None)]
        changes += [(("case", "policeInvestigation"), odd) for odd in ("false", 0)]
        changes += [(("case", "dwellingPollution"), odd) for odd in ("true", 1, False)]
        for path, how in changes:
            changed = _without(doc, path, how)
            if changed is None:
                continue
            variants += 1
            after = _disclosed(engine._evaluate, changed)
            if after - before:
                how_named = "deleted" if how is _DELETE else repr(how)
                more.append(f"request {number}: {'.'.join(path)} {how_named}: {after - before}")
            withheld += bool(before - after)
    summary = (
        f"{engine_name}: {len(requests)} requests, {complete_disclosing} disclosing when "
        f"complete; {variants} with a fact taken away, {withheld} of them withholding a "
        "category the complete request disclosed"
    )
    record_property("summary", summary)
    print(summary)
    assert more == [], more[:10]
    assert complete_disclosing * 3 >= len(requests), summary
    assert withheld * 5 >= complete_disclosing, summary
