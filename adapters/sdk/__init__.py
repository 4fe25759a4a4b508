"""The Ketenpoort partner SDK.

A partner's back office talks to the gateway through :class:`KetenpoortClient`: it signs a
fresh single-use token per request with the partner's key, sends and receives typed models,
retries safely (idempotency keys; backoff on 503 and broken connections; never on 4xx),
long-polls its inbox (so no inbound port is needed) and answers requests. Errors are
:class:`KetenpoortError` subclasses mapped from the gateway's problem+json answers.
"""

from adapters.sdk._client import MAX_WAIT_SECONDS, KetenpoortClient
from adapters.sdk._errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    Conflict,
    KetenpoortError,
    NotFound,
    PermissionDenied,
    PolicyDenied,
    Problem,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unprocessable,
)
from adapters.sdk._http import IDEMPOTENCY_HEADER
from adapters.sdk._models import (
    AnswerForm,
    AnswerReceipt,
    CaseFact,
    CaseListItem,
    CaseSummary,
    CategoryAnswer,
    CategoryStatus,
    CategoryValue,
    Consent,
    ConsentIn,
    Disclosure,
    Inbox,
    InboxItem,
    InformationRequest,
    InvestigationStatus,
    Me,
    Receipt,
    Recipient,
)
from adapters.sdk._retry import NO_RETRY, RetryPolicy

__all__ = [
    "IDEMPOTENCY_HEADER",
    "MAX_WAIT_SECONDS",
    "NO_RETRY",
    "AnswerForm",
    "AnswerReceipt",
    "ApiError",
    "AuthenticationError",
    "BadRequest",
    "CaseFact",
    "CaseListItem",
    "CaseSummary",
    "CategoryAnswer",
    "CategoryStatus",
    "CategoryValue",
    "Conflict",
    "Consent",
    "ConsentIn",
    "Disclosure",
    "Inbox",
    "InboxItem",
    "InformationRequest",
    "InvestigationStatus",
    "KetenpoortClient",
    "KetenpoortError",
    "Me",
    "NotFound",
    "PermissionDenied",
    "PolicyDenied",
    "Problem",
    "Receipt",
    "Recipient",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "TransportError",
    "Unprocessable",
]
