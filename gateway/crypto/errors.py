"""Errors of the crypto domain; all are GatewayErrors, so clients see problem+json."""

from __future__ import annotations

from gateway.core.errors import Conflict, GatewayError, ServiceUnavailable, Unprocessable


class KeyProviderUnavailable(ServiceUnavailable):
    """The key-encryption key cannot be used (key file missing, HSM down, wrong KEK).

    Nothing is decrypted or written while this lasts, and the gateway reports not-ready.
    """

    problem = "key-provider-unavailable"
    title = "Key provider unavailable"


class UndecryptableValue(GatewayError):
    """A stored ciphertext failed its integrity check: tampered, moved to another record or
    field, or under an unknown data key. Fails closed; the detail never holds the value."""

    status = 500
    problem = "undecryptable-value"
    title = "Stored value failed its integrity check"


class InvalidIdentifier(Unprocessable):
    """An identifier (BSN, postcode, house number, name, date of birth) is malformed.

    The detail names the kind of identifier and the rule, never the value given."""

    problem = "invalid-identifier"
    title = "Invalid identifier"


class KeyRotationIncomplete(Conflict):
    """A KEK version cannot be retired while data keys are still wrapped by it."""

    problem = "key-rotation-incomplete"
    title = "Key rotation incomplete"


class InvalidKeyScope(Unprocessable):
    """A key scope is malformed or reserved for the gateway itself."""

    problem = "invalid-key-scope"
    title = "Invalid key scope"
