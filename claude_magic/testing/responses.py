"""The API's answers in its shape: a JSON body or an error, each with a `request-id` (endpoints and batches)."""

from __future__ import annotations

import secrets
from typing import Any

from .rendering import dumps
from .transmit import Response

__all__ = ["request_id", "json_response", "error_response", "error_body"]


def request_id() -> str:
    """A new `req_local_…` id, as the API gives every response."""
    return f"req_local_{secrets.token_hex(12)}"


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    """`value` as JSON, with a `request-id` header."""
    return Response(status, [dumps(value).encode()], headers={"request-id": request_id(), **(headers or {})})


def error_body(error_type: str, message: str, identifier: str | None = None) -> dict[str, Any]:
    """An error in the API's shape: `{"type": "error", "error": {...}, "request_id": ...}`."""
    return {"type": "error", "error": {"type": error_type, "message": message},
            "request_id": identifier or request_id()}


def error_response(
    status: int,
    error_type: str,
    message: str,
    *,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error in the API's shape, with `request-id` (in header and body) and `retry-after`."""
    identifier = request_id()
    extra = {"request-id": identifier, **(headers or {})}
    if retry_after is not None:
        extra["retry-after"] = f"{retry_after:g}"
    return Response(status, [dumps(error_body(error_type, message, identifier)).encode()], headers=extra)
