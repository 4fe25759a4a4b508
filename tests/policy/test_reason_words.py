"""Every reason code the policy gives has words for the command line and the demo: a
reader learns why first, the code second."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.policy.reasons import REASON_WORDS, reason_in_words, reasons_in_words

ROOT = Path(__file__).resolve().parents[2]


def test_every_reason_code_of_the_policy_has_words() -> None:
    rego = (ROOT / "policies" / "rego" / "authz.rego").read_text()
    block = rego[rego.index("reason_order := [") : rego.index("]", rego.index("reason_order"))]
    codes = re.findall(r'"([a-z-]+)"', block)
    assert len(codes) >= 15  # the list was found, not an empty match
    assert sorted(set(codes) - set(REASON_WORDS)) == []


def test_words_come_first_and_the_code_after() -> None:
    assert reason_in_words("om-consent-missing") == (
        "an investigation is running and the OM has not consented (om-consent-missing)"
    )
    assert reason_in_words("event-not-recorded:eviction-procedure") == (
        "a case event the clause requires is not on record: the landlord's eviction "
        "procedure (event-not-recorded:eviction-procedure)"
    )
    assert reasons_in_words(["investigation-status-unknown", "om-consent-missing"]).count("; ") == 1


def test_a_code_without_words_is_shown_as_the_code() -> None:
    assert reason_in_words("some-future-reason") == "some-future-reason"
