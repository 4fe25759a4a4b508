"""The SDK's models match the gateway's published OpenAPI schemas, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from adapters.sdk import _models as sdk
from gateway.app import create_app
from gateway.config import Settings

# SDK model -> the gateway's schema component of the same shape.
PAIRS: list[tuple[type[BaseModel], str]] = [
    (sdk.Me, "Me"),
    (sdk.Receipt, "Receipt"),
    (sdk.InformationRequestIn, "InformationRequestIn"),
    (sdk.Recipient, "RecipientIn"),
    (sdk.CategoryStatus, "CategoryStatus"),
    (sdk.InformationRequest, "InformationRequestOut"),
    (sdk.InboxItem, "InboxItem"),
    (sdk.Inbox, "Inbox"),
    (sdk.CategoryAnswer, "CategoryAnswerIn"),
    (sdk.AnswerIn, "AnswerIn"),
    (sdk.AnswerReceipt, "AnswerReceipt"),
    (sdk.CategoryValue, "CategoryValue"),
    (sdk.Disclosure, "DisclosureOut"),
    (sdk.CaseFactIn, "CaseFactIn"),
    (sdk.CaseFact, "CaseFactOut"),
    (sdk.CaseFactQuery, "CaseFactQuery"),
    (sdk.CaseListItem, "CaseListItem"),
    (sdk.CasePage, "CaseList"),
    (sdk.CasesEmbedded, "CasesEmbedded"),
    (sdk.PageLinks, "PageLinks"),
    (sdk.Link, "Link"),
    (sdk.ConsentIn, "ConsentIn"),
    (sdk.Consent, "ConsentOut"),
    (sdk.InvestigationStatus, "InvestigationStatusIn"),
]
# Models the SDK reads only in part, on purpose (it ignores the rest).
PARTIAL = {sdk.CaseSummary: "CaseSummary"}


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document the gateway serves at /v1/openapi.json (no database needed for it)."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi")))
    schemas: dict[str, Any] = app.openapi()["components"]["schemas"]
    return schemas


def _schema(components: dict[str, Any], name: str) -> dict[str, Any]:
    for key in (name, f"{name}-Input", f"{name}-Output"):
        if key in components:
            found: dict[str, Any] = components[key]
            return found
    raise AssertionError(f"the gateway publishes no schema {name!r}")


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize(("model", "name"), PAIRS, ids=[n for _, n in PAIRS])
def test_sdk_model_has_exactly_the_gateways_properties(
    components: dict[str, Any], model: type[BaseModel], name: str
) -> None:
    schema = _schema(components, name)
    assert _aliases(model) == set(schema.get("properties", {}))
    required_by_gateway = set(schema.get("required", []))
    required_by_sdk = {
        field.alias or n for n, field in model.model_fields.items() if field.is_required()
    }
    # The SDK may default a field the gateway always sends, never require one it may omit.
    assert required_by_sdk <= required_by_gateway


@pytest.mark.parametrize(("model", "name"), list(PARTIAL.items()))
def test_partial_sdk_models_read_only_fields_the_gateway_sends(
    components: dict[str, Any], model: type[BaseModel], name: str
) -> None:
    assert _aliases(model) <= set(_schema(components, name).get("properties", {}))
