"""Structured JSON logs: one object per line, with the request id; personal data masked.

Every request logs one ``request`` line (method, route, status, duration); a scored order's
fields (:func:`event_fields`, decision, score, case) are on that line for ``/v1/score`` and
on one ``scored`` line per order of a batch.
"""

from __future__ import annotations

import contextvars
import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from fraudguard.privacy import mask
from fraudguard.schema import Decision, RechargeEvent

__all__ = ["REQUEST_ID", "JsonFormatter", "configure_logging", "event_fields", "scored_fields"]

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        payload.update(
            (key, value) for key, value in record.__dict__.items() if key not in _STANDARD
        )
        if record.exc_info and record.exc_info[0] is not None:
            payload["exception"] = record.exc_info[0].__name__
        return orjson.dumps(payload, default=str).decode("utf-8")


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the ``fraudguard`` loggers (once per process).

    The lines carry no source location, thread or process, so the logging module is told
    not to collect them - its documented optimisation ("Optimization" in the logging
    HOWTO): finding the caller walks the stack on every record, a quarter of the cost of
    the line each scored order logs.
    """
    logging._srcfile = None  # no findCaller: records say "(unknown file)", line 0
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logger = logging.getLogger("fraudguard")
    logger.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)


def event_fields(event: RechargeEvent) -> dict[str, Any]:
    """What a log line may say about an order: ids masked, never in clear."""
    payment = event.payment
    return {
        "transaction_id": event.transaction_id,
        "msisdn": mask(event.msisdn),
        "payer": mask(payment.payer_id) if payment.payer_id else None,
        "instrument": mask(payment.instrument_id) if payment.instrument_id else None,
        "card_bin": mask(payment.card_bin) if payment.card_bin else None,
        "amount": event.amount,
        "channel": str(event.channel),
    }


def scored_fields(event: RechargeEvent, decision: Decision) -> dict[str, Any]:
    """What a log line says about a scored order (ids masked)."""
    return {
        **event_fields(event),
        "decision": decision.decision.value,
        "score": round(decision.score, 4),
        "case_id": decision.case_id,
        "degraded": decision.degraded,
    }
