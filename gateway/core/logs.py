"""Structured logs: one JSON object per line, each with the request id and the trace id.

What goes in a line is decided here, not by whoever calls the logger: the message, the
logger, the level, the request and trace ids, an exception's traceback, and only the extra
fields named in :data:`EXTRA_FIELDS` (route templates, status codes, durations). Messages
themselves never carry personal data (STYLE.md, errors.py); the access line is written by
:mod:`gateway.core.tracing` with the route template, never the path or the query string.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

#: The request being served in this context (set by the observability middleware).
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ketenpoort_request_id", default=None
)

#: ``extra=`` fields a line may carry; anything else passed as extra is left out.
EXTRA_FIELDS = ("http_method", "http_route", "http_status", "duration_ms", "job", "event")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        span = trace.get_current_span().get_span_context()
        line["trace_id"] = trace.format_trace_id(span.trace_id) if span.is_valid else None
        line["span_id"] = trace.format_span_id(span.span_id) if span.is_valid else None
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the command line and for uvicorn's workers
    (``uvicorn.run(log_config=...)`` applies it in every worker process)."""
    formatter: dict[str, Any] = (
        {"()": "gateway.core.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's own handlers would print a second, unstructured copy.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Its access line has the raw path with the query string: ours has the route.
            "uvicorn.access": {"handlers": [], "propagate": False},
            # Migration chatter is not news on every command.
            "alembic": {"level": "WARNING"},
            # httpx logs every outgoing URL at INFO (an OIDC callback's code among them).
            "httpx": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: str) -> None:
    logging.config.dictConfig(logging_config(log_format))
