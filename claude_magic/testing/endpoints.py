"""The API's behaviour, endpoint by endpoint: auth, validation, queue items turned into responses."""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .batches import BATCHES_PATH
from .caching import estimate_tokens
from .context_editing import (
    Edited,
    apply_context_management,
    check_compaction_turn,
    check_context_request,
    request_betas,
    summarize,
)
from .files import FILES_PATH
from .models import lookup_model, models_page
from .oauth import TOKEN_PATH
from .rendering import dumps, render
from .replay import assemble_message, split_events
from .responses import error_response, json_response, request_id
from .script import ApiError, Drop, Item, Malformed, MidStreamError, Replay, Reply, Stall, block, status_for_error_type
from .state import RecordedRequest, ServerState
from .transmit import Response
from .validation import RequestRejected, validate_request

__all__ = ["handle"]

_MESSAGES = "/v1/messages"


def _auth_error(server: ServerState, headers: dict[str, str]) -> Response | None:
    key = headers.get("x-api-key")
    authorization = headers.get("authorization", "")
    if key is None and authorization[:7].lower() == "bearer ":
        key = authorization[7:].strip()
    if not key:
        return error_response(401, "authentication_error", "x-api-key header is required")
    if server.oauth.recognizes(key):             # an access token our token endpoint issued
        problem = server.oauth.bearer_problem(key, headers.get("anthropic-beta", ""))
        return error_response(401, "authentication_error", problem) if problem else None
    if server.require_api_key is not None and key != server.require_api_key:
        return error_response(401, "authentication_error", "invalid x-api-key")
    return None


def _parse(raw: bytes | None) -> tuple[Any, bool]:
    """The JSON body (None if absent) and whether it parsed."""
    if not raw:
        return None, True
    try:
        return json.loads(raw), True
    except ValueError:
        return None, False


def handle(server: ServerState, method: str, target: str, headers: dict[str, str], raw: bytes | None) -> Response:
    """Record and answer one HTTP request."""
    body, parsed = _parse(raw)
    server.record_request(RecordedRequest(target, method, headers, body, len(raw or b"")))
    parts = urlsplit(target)
    path = parts.path.rstrip("/")
    if path == "/api/hello" and method in ("GET", "HEAD"):  # Claude Code's reachability probe
        return json_response(200, {"message": "hello"})
    if path == TOKEN_PATH:                      # OAuth clients authenticate with the grant itself
        return server.oauth.token_endpoint(method, headers, raw)
    failure = _auth_error(server, headers)
    if failure is not None:
        return failure
    if method == "POST" and path in (_MESSAGES, f"{_MESSAGES}/count_tokens"):
        limit = server.max_request_bytes
        if limit is not None and raw is not None and len(raw) > limit:
            return error_response(413, "request_too_large", "Request exceeds the maximum allowed number of bytes. "
                                  f"The maximum request size is {limit:,} bytes.")
        if not parsed:
            problem = "There was an issue with the request body: it is not valid JSON"
            server.record_rejection(None, problem)
            return error_response(400, "invalid_request_error", problem)
        if path == _MESSAGES:
            problem = server.files.check_references(body, headers)
            if problem is not None:
                server.record_rejection(body, problem[2])
                return error_response(*problem)
        return _messages(server, body, headers) if path == _MESSAGES else _count_tokens(server, body, headers)
    if method == "GET" and path == "/v1/models":
        query = parse_qs(parts.query)
        given = query.get("limit", ["20"])[0]
        limit = int(given) if given.isdigit() else 20
        after, before = query.get("after_id", [None])[0], query.get("before_id", [None])[0]
        return json_response(200, models_page(server.models, limit=limit, after_id=after, before_id=before))
    if method == "GET" and path.startswith("/v1/models/"):
        model_id = path.removeprefix("/v1/models/")
        info = lookup_model(server.models, model_id)
        return json_response(200, info) if info else error_response(404, "not_found_error", f"model: {model_id}")
    if path == FILES_PATH or path.startswith(f"{FILES_PATH}/"):
        return server.files.handle(method, path, parse_qs(parts.query), headers, raw)
    if path == BATCHES_PATH or path.startswith(f"{BATCHES_PATH}/"):
        return server.batches.handle(method, path, parse_qs(parts.query), body, parsed, raw)
    return error_response(404, "not_found_error", f"Not found: {method} {parts.path}")


def _checked(server: ServerState, body: Any, count_only: bool, headers: dict[str, str] | None = None) -> Response | None:
    """Validate and look up the model; the error response if the API would refuse."""
    try:
        check_compaction_turn(body)
        validate_request(body, signature_ok=server.signer.verify, count_only=count_only)
        info = lookup_model(server.models, body["model"])
        tampered = server.web.check_history(body.get("messages"))
        if tampered:
            raise RequestRejected(tampered)
        if info is None and not server.accept_any_model:
            raise RequestRejected(f"model: {body['model']}", 404, "not_found_error")
        check_context_request(body, request_betas(headers or {}), info, server.compactions)
        limit = info.get("max_tokens") if info else None
        if not count_only and limit and body["max_tokens"] > limit:
            raise RequestRejected(
                f"max_tokens: {body['max_tokens']} > {limit}, which is the maximum allowed number of output tokens "
                f"for {body['model']}"
            )
    except RequestRejected as refusal:
        if refusal.status == 400:
            server.record_rejection(body, refusal.message)
        return error_response(refusal.status, refusal.error_type, refusal.message,
                              error_code=getattr(refusal, "error_code", None))
    return None


def _count_tokens(server: ServerState, body: Any, headers: dict[str, str]) -> Response:
    refusal = _checked(server, body, count_only=True, headers=headers)
    if refusal is not None:
        return refusal
    if body.get("context_management") is None:
        return json_response(200, {"input_tokens": estimate_tokens(body)})
    edited = apply_context_management(body, server.compactions, compact=False)   # counted as cleared, not compacted
    return json_response(200, {"input_tokens": estimate_tokens(edited.body),
                               "context_management": {"original_input_tokens": edited.original_tokens}})


def _messages(server: ServerState, body: Any, headers: dict[str, str]) -> Response:
    refusal = _checked(server, body, count_only=False, headers=headers)
    if refusal is not None:
        return refusal
    admitted, limits = server.traffic.admit()     # rate limits and latency (traffic.py)
    if not admitted:
        return error_response(429, "rate_limit_error", "Number of concurrent requests has exceeded your rate limit.",
                              headers=limits)
    try:
        if server.traffic.latency > 0:
            server.stopping.wait(server.traffic.latency)
        edited = apply_context_management(body, server.compactions)
        try:
            item = _compaction_answer(server, body, edited) or server.next_item(body)
            if isinstance(item, Reply):
                item = server.web.resolve(item, body)     # web calls answered from the corpus (web.py)
        except Exception as error:  # noqa: BLE001 - a test's responder failed: answer 500, keep the error for the test
            server.report_error(error)
            message = f"local test server: the responder raised {type(error).__name__}: {error}"
            return error_response(500, "api_error", message, headers={"x-should-retry": "false"})
        response = _answer(server, item, body, edited)
    finally:
        server.traffic.leave()
    response.headers.update(limits)
    return response


def _compaction_answer(server: ServerState, body: dict[str, Any], edited: Edited) -> Reply | None:
    """The answer of a request that compacts and stops there (`compaction` param, `pause_after_compaction`)."""
    if body.get("compaction") is not None:
        compaction, usage = summarize(edited.body, server.compactions, body["compaction"].get("instructions"))
        edited.compaction_usage = usage
        return Reply(block(compaction), stop_reason="compaction")
    if edited.pause and edited.compaction is not None:
        return Reply(block(edited.compaction), stop_reason="compaction")
    return None


def _answer(server: ServerState, item: Item, body: dict[str, Any], edited: Edited) -> Response:
    stream = body.get("stream") is True
    if isinstance(item, ApiError):
        return error_response(item.status, item.type, item.text, retry_after=item.retry_after, headers=item.headers)
    if isinstance(item, Replay):
        return _replay(server, item, stream)
    return _reply(server, item, body, stream, edited)


def _replay(server: ServerState, item: Replay, stream: bool) -> Response:
    try:
        message: dict[str, Any] | None = assemble_message(item.data)
    except (ValueError, KeyError, IndexError) as error:  # a deliberately broken recording
        message, problem = None, f"{type(error).__name__}: {error}"
    for content in (message or {}).get("content", []):
        if content.get("type") == "thinking" and content.get("signature"):
            server.signer.issue(content.get("thinking", ""), content["signature"])
    if not stream:
        if message is None:
            return error_response(500, "api_error", f"local test server: cannot assemble {item.path}: {problem}")
        return json_response(200, message)
    delay = server.event_delay if item.delay is None else item.delay
    chunks = split_events(item.data) if delay > 0 else [item.data]
    headers = {"request-id": request_id()}
    return Response(200, chunks, "text/event-stream; charset=utf-8", headers, stream=True, delay=delay)


def _reply(server: ServerState, item: Reply, body: dict[str, Any], stream: bool, edited: Edited) -> Response:
    model = body["model"]
    message_id = f"msg_local_{secrets.token_hex(12)}"
    summarizing = item.stop_reason == "compaction"
    if edited.compaction is not None and not summarizing:   # the answer opens with the block it compacted into
        item = copy.copy(item)
        item.blocks = (block(edited.compaction), *item.blocks)
    usage = server.cache.account(edited.body, model) if not summarizing else \
        {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    rendered = render(item, message_id=message_id, model=model, input_usage=usage, signer=server.signer,
                      context_management={"applied_edits": edited.applied}
                      if body.get("context_management") is not None else None)
    if edited.compaction_usage is not None:         # the compaction's own tokens: an iteration, not the top level
        rendered.usage["iterations"] = [edited.compaction_usage] + ([] if summarizing else [
            {"type": "message", **{key: rendered.usage[key] for key in
                                   ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                    "cache_read_input_tokens")}}])
    headers = {"request-id": request_id()}
    fault = item.fault
    if stream:
        delay = server.event_delay if item.delay is None else item.delay
        return Response(200, rendered.events(), "text/event-stream; charset=utf-8", headers, True, delay, fault)
    payload = dumps(rendered.message()).encode()
    if isinstance(fault, MidStreamError):
        return error_response(status_for_error_type(fault.error_type), fault.error_type, fault.message)
    if isinstance(fault, Malformed):
        return Response(200, [payload[: len(payload) // 2]], headers=headers)
    if isinstance(fault, Drop):
        return Response(200, [payload], headers=headers, fault=Drop(0, fault.reset))
    if isinstance(fault, Stall):
        return Response(200, [payload], headers=headers, fault=Stall(0, fault.seconds))
    return Response(200, [payload], headers=headers)
