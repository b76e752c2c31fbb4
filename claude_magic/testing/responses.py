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


def error_body(error_type: str, message: str, identifier: str | None = None,
               error_code: str | None = None) -> dict[str, Any]:
    """An error in the API's shape: `{"type": "error", "error": {...}, "request_id": ...}`; `error_code` goes to
    `error.details.error_code` (the SDK's `APIStatusError.error_code`)."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if error_code is not None:
        error["details"] = {"error_code": error_code}
    return {"type": "error", "error": error, "request_id": identifier or request_id()}


def error_response(
    status: int,
    error_type: str,
    message: str,
    *,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
    error_code: str | None = None,
) -> Response:
    """An error in the API's shape, with `request-id` (in header and body) and `retry-after`."""
    identifier = request_id()
    extra = {"request-id": identifier, **(headers or {})}
    if retry_after is not None:
        extra["retry-after"] = f"{retry_after:g}"
    return Response(status, [dumps(error_body(error_type, message, identifier, error_code)).encode()], headers=extra)
