"""The third recipient relation, "the partner that recorded X" (``event-recorder``), which no
clause of the two covenants uses yet: a covenant that binds the sfeerverslag to the partner
that recorded the eviction procedure, compiled and decided on every engine."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy.bundle import build_bundle, pack, read_bundle
from gateway.policy.covenant import default_covenant_dir, parse_covenant
from gateway.policy.schemas import PolicyInput
from tests.policy.conftest import ENGINE_CLASSES, require_engine

_FILE = default_covenant_dir() / "utrecht-extreme-woonoverlast" / "covenant.yaml"
_TEXT = _FILE.read_text(encoding="utf-8").replace(
    "      - {role: woonconsulent, relation: dwelling-landlord}\n",
    "      - {role: woonconsulent, relation: event-recorder, event: eviction-procedure}\n",
)
assert "relation: event-recorder" in _TEXT, "the sfeerverslag clause's recipients changed"
COVENANT = parse_covenant(_TEXT, _FILE)
_KEY = ec.generate_private_key(ec.SECP256R1())
BUNDLE = read_bundle(pack(build_bundle({COVENANT.id: COVENANT}, _KEY)), _KEY.public_key())


@pytest.fixture(scope="module", params=sorted(ENGINE_CLASSES))
def engine(request: pytest.FixtureRequest) -> Any:
    require_engine(request.param)
    loaded = ENGINE_CLASSES[request.param]()
    loaded.load(BUNDLE)
    return loaded


def _request(requester: str, recorded_by: str, landlord: str | None = None) -> PolicyInput:
    landlord = landlord or recorded_by
    return PolicyInput.model_validate(
        {
            "requester": {"partner": requester, "role": "woonconsulent", "user": "p"},
            "case": {
                "id": "c1",
                "covenant": COVENANT.id,
                "phase": "execution",
                "team": ["u-centraal", "politie-midden-nederland", "mitros", "portaal"],
                "lead": "u-centraal",
                # The event is the landlord's (``recordedBy``): it counts while its recorder
                # is the dwelling's corporation, whose permission every Utrecht clause needs.
                "dwelling": {"ownership": "corporation", "corporation": landlord},
                "policeInvestigation": False,
                "events": [{"kind": "eviction-procedure", "partner": recorded_by}],
            },
            "categories": ["police-atmosphere-report"],
            "purpose": "eviction-procedure",
            "consents": [
                {
                    "kind": "corporation-permission",
                    "case": "c1",
                    "partner": landlord,
                    "categories": [],
                    "grantedAt": "2025-01-01T00:00:00Z",
                }
            ],
            "now": "2025-03-01T12:00:00Z",
        }
    )


def test_the_partner_that_recorded_the_event_receives(engine: Any) -> None:
    verdict = engine.decide(_request("portaal", "portaal")).categories["police-atmosphere-report"]
    assert verdict.outcome == "disclose"
    assert verdict.clauses == ["U-5.3-sfeerverslag"]


def test_an_event_whose_recorder_is_no_longer_the_landlord_counts_for_nobody(engine: Any) -> None:
    """Portaal recorded the eviction procedure, then the lead found Mitros is the landlord
    (PUT .../dwelling/landlord, review3 finding 3): Portaal's event unlocks nothing."""
    verdict = engine.decide(_request("portaal", "portaal", landlord="mitros")).categories[
        "police-atmosphere-report"
    ]
    assert verdict.outcome == "redact"
    # Refused by its relation to the case: told that alone, not whether the event counts
    # (review6b, P1: a requester refused by who it is learns nothing of the case's state).
    assert verdict.reasons == ["not-event-recorder"]


def test_another_partner_with_the_role_does_not(engine: Any) -> None:
    verdict = engine.decide(_request("mitros", "portaal")).categories["police-atmosphere-report"]
    assert verdict.outcome == "redact"
    assert verdict.reasons == ["not-event-recorder"]


def test_the_relation_names_a_known_event() -> None:
    from gateway.policy.errors import CovenantError

    broken = _TEXT.replace("event: eviction-procedure}\n", "event: no-such-event}\n", 1)
    with pytest.raises(CovenantError, match="unknown event 'no-such-event'"):
        parse_covenant(broken, _FILE)


def test_an_event_names_a_known_category() -> None:
    """The summary shows an event to its category's recipients (review4, finding 5): a
    category the covenant does not have would show it to nobody but the lead, silently."""
    from gateway.policy.errors import CovenantError

    broken = _TEXT.replace(
        "category: corporation-case-information\n", "category: no-such-category\n", 1
    )
    assert broken != _TEXT
    with pytest.raises(CovenantError, match="unknown category 'no-such-category'"):
        parse_covenant(broken, _FILE)
