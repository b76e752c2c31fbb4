"""`ApiError` answers map to the SDK's exception classes; retries; a failing responder."""

from __future__ import annotations

import anthropic
import pytest

from claude_magic.testing import ApiError, LocalServer, Reply, text

MODEL = "claude-opus-4-7"
HELLO = [{"role": "user", "content": "Hello"}]

CASES = [
    (400, "invalid_request_error", anthropic.BadRequestError),
    (401, "authentication_error", anthropic.AuthenticationError),
    (403, "permission_error", anthropic.PermissionDeniedError),
    (404, "not_found_error", anthropic.NotFoundError),
    (413, "request_too_large", anthropic.RequestTooLargeError),
    (429, "rate_limit_error", anthropic.RateLimitError),
    (500, "api_error", anthropic.InternalServerError),
    (529, "overloaded_error", anthropic.OverloadedError),
]


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "create"])
@pytest.mark.parametrize(("status", "error_type", "exception"), CASES, ids=[str(c[0]) for c in CASES])
def test_status_maps_to_sdk_exception(
    claude_server: LocalServer,
    client: anthropic.Anthropic,
    status: int,
    error_type: str,
    exception: type[anthropic.APIStatusError],
    stream: bool,
) -> None:
    claude_server.queue(ApiError(status))
    with pytest.raises(exception) as caught:
        if stream:
            with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as events:
                events.get_final_message()
        else:
            client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    error = caught.value
    assert error.status_code == status
    assert error.type == error_type
    assert error.api_message
    assert error.request_id is not None and error.request_id.startswith("req_local_")
    assert isinstance(error.body, dict) and error.body["request_id"] == error.request_id


def test_custom_type_message_and_headers(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(ApiError(429, message="slow down", retry_after=7, headers={"x-should-retry": "false"}))
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert caught.value.api_message == "slow down"
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.response.headers["x-should-retry"] == "false"
    claude_server.queue(ApiError(400, error_type="billing_error", message="no credit"))
    with pytest.raises(anthropic.BadRequestError) as caught_billing:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert caught_billing.value.type == "billing_error"


def test_rate_limit_then_success_with_one_retry(claude_server: LocalServer) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=1)
    claude_server.queue(ApiError(429, retry_after=0), Reply(text("made it")))
    message = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert message.content[0].text == "made it"
    assert len(claude_server.message_requests) == 2
    assert claude_server.requests[1].headers["x-stainless-retry-count"] == "1"


def test_error_items_do_not_touch_the_prompt_cache(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    cached = [
        {"role": "user", "content": [{"type": "text", "text": "x" * 400, "cache_control": {"type": "ephemeral"}}]}
    ]
    claude_server.queue(ApiError(500))
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(model=MODEL, max_tokens=10, messages=cached)
    assert client.messages.create(model=MODEL, max_tokens=10, messages=cached).usage.cache_read_input_tokens == 0


def test_a_failing_responder_answers_500(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    def broken(body: dict[str, object]) -> Reply:
        raise RuntimeError("boom")

    claude_server.queue(broken)
    with pytest.raises(anthropic.InternalServerError) as caught:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert "RuntimeError: boom" in (caught.value.api_message or "")
    assert isinstance(claude_server.errors[0], RuntimeError)


def test_a_responder_must_give_a_reply(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(lambda body: 42)
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert isinstance(claude_server.errors[0], TypeError)


def test_queue_refuses_unknown_items(claude_server: LocalServer) -> None:
    with pytest.raises(TypeError):
        claude_server.queue(42)  # type: ignore[arg-type]
    assert claude_server.queued == 0
