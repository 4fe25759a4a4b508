"""Imports every ORM model module so Base.metadata knows all tables (Alembic, tests)."""

import gateway.audit.models
import gateway.auth.models
import gateway.cases.models
import gateway.core.models
import gateway.crypto.models
import gateway.exchange.models
import gateway.retention.models
import gateway.web.models

__all__ = [
    "gateway",
]
