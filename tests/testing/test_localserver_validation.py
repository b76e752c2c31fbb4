"""Requests the API would refuse are refused with its 400 wording; valid histories pass."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import anthropic
import httpx2
import pytest

from claude_magic.testing import LocalServer, Reply, sign_thinking, text, thinking, tool_use

MODEL = "claude-opus-4-7"
USER = {"role": "user", "content": "Hi"}
TOOL = {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {}}}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"model": MODEL, "max_tokens": 2000, "messages": [USER]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def conversation(*messages: dict[str, Any]) -> dict[str, Any]:
    return body(messages=list(messages))


def assistant(*content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(content)}


def user(*content: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(content)}


REFUSED = {
    "no model": (body(model=None), "model: Field required"),
    "no max_tokens": (body(max_tokens=None), "max_tokens: Field required"),
    "max_tokens zero": (body(max_tokens=0), "greater than or equal to 1"),
    "max_tokens not int": (body(max_tokens="10"), "valid integer"),
    "max_tokens over the model's limit": (body(max_tokens=10**6), "maximum allowed number of output tokens"),
    "no messages": (body(messages=None), "messages: Field required"),
    "empty messages": (body(messages=[]), "at least one message is required"),
    "bad role": (conversation({"role": "tool", "content": "x"}), "Input should be 'user', 'assistant' or 'system'"),
    "first assistant": (conversation({"role": "assistant", "content": "x"}, USER), "first message must use"),
    "two users": (conversation(USER, USER), 'found multiple "user" roles in a row'),
    "two assistants": (
        conversation(USER, {"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}),
        'multiple "assistant" roles',
    ),
    "empty string": (conversation({"role": "user", "content": ""}), "must have non-empty content"),
    "empty list": (conversation({"role": "user", "content": []}), "must have non-empty content"),
    "empty final assistant": (conversation(USER, {"role": "assistant", "content": ""}), "non-empty content"),
    "empty text block": (conversation(user({"type": "text", "text": ""})), "text content blocks must be non-empty"),
    "blank text block": (conversation(user({"type": "text", "text": " \n"})), "non-whitespace text"),
    "prefill trailing space": (
        conversation(USER, {"role": "assistant", "content": "The answer is "}),
        "cannot end with trailing whitespace",
    ),
    "tool_use without result": (
        conversation(USER, assistant(CALL), user({"type": "text", "text": "and?"})),
        "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
    ),
    "tool_use ending the request": (conversation(USER, assistant(CALL)), "without `tool_result`"),
    "one of two tool_uses unanswered": (
        conversation(USER, assistant(CALL, dict(CALL, id="toolu_2")), user(RESULT)),
        "immediately after: toolu_2",
    ),
    "tool_result without tool_use": (
        conversation(USER, {"role": "assistant", "content": "ok"}, user(RESULT)),
        "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
    ),
    "tool_result answering an older turn": (
        conversation(USER, assistant(CALL), user(RESULT), {"role": "assistant", "content": "ok"}, user(RESULT)),
        "unexpected `tool_use_id`",
    ),
    "duplicate tool_use ids": (
        conversation(USER, assistant(CALL, CALL), user(RESULT)),
        "`tool_use` ids must be unique",
    ),
    "tool_use in a user message": (conversation(user(CALL)), "only be in `assistant` messages"),
    "wrong thinking signature": (
        conversation(
            USER,
            assistant({"type": "thinking", "thinking": "hm", "signature": "Zm9v"}, {"type": "text", "text": "a"}),
            USER,
        ),
        "messages.1.content.0: Invalid `signature` in `thinking` block",
    ),
    "missing thinking signature": (
        conversation(USER, assistant({"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "a"}), USER),
        "Invalid `signature` in `thinking` block",
    ),
    "small thinking budget": (
        body(thinking={"type": "enabled", "budget_tokens": 1000}),
        "greater than or equal to 1024",
    ),
    "budget not below max_tokens": (
        body(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 2000}),
        "`max_tokens` must be greater than `thinking.budget_tokens`",
    ),
    "bad thinking type": (body(thinking={"type": "sometimes"}), "thinking"),
    "tool without schema": (body(tools=[{"name": "f"}]), "tools.0.custom.input_schema: Field required"),
    "tool schema not an object": (
        body(tools=[{"name": "f", "input_schema": {"type": "string"}}]),
        "input_schema.type: Input should be 'object'",
    ),
    "tool without name": (body(tools=[{"input_schema": {"type": "object"}}]), "name: Field required"),
    "bad tool name": (
        body(tools=[{"name": "get weather", "input_schema": {"type": "object"}}]),
        "should match pattern",
    ),
    "duplicate tool names": (body(tools=[TOOL, TOOL]), "Tool names must be unique"),
    "system not text": (body(system=[{"type": "image"}]), "system.0"),
}


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


def post(client: anthropic.Anthropic, payload: dict[str, Any]) -> httpx2.Response:
    return client.post("/v1/messages", cast_to=httpx2.Response, body=payload)


@pytest.mark.parametrize(("payload", "expected"), list(REFUSED.values()), ids=list(REFUSED))
def test_refused(
    claude_server: LocalServer, client: anthropic.Anthropic, payload: dict[str, Any], expected: str
) -> None:
    claude_server.queue(Reply(text("never sent")))
    with pytest.raises(anthropic.BadRequestError) as caught:
        post(client, payload)
    assert caught.value.type == "invalid_request_error"
    assert expected in (caught.value.api_message or "")
    assert claude_server.rejections == [(payload, caught.value.api_message)]
    assert claude_server.queued == 1  # a refused request consumes nothing


def test_invalid_json_is_refused(claude_server: LocalServer) -> None:
    request = urllib.request.Request(
        f"{claude_server.base_url}/v1/messages", data=b"{not json", headers={"x-api-key": "k"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert json.loads(caught.value.read())["error"]["type"] == "invalid_request_error"
    assert claude_server.rejections[0][0] is None


def test_unknown_model_is_not_found(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="claude-imaginary-9", max_tokens=10, messages=[USER])
    assert caught.value.api_message == "model: claude-imaginary-9"
    assert claude_server.rejections == []
    claude_server.accept_any_model = True
    assert (
        client.messages.create(model="claude-imaginary-9", max_tokens=10, messages=[USER]).model == "claude-imaginary-9"
    )


def test_dated_model_ids_are_known(client: anthropic.Anthropic) -> None:
    assert client.messages.create(model="claude-opus-4-7-20260416", max_tokens=10, messages=[USER]).content


def test_valid_requests_pass(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    accepted = [
        conversation(USER, assistant(CALL), user(RESULT, {"type": "text", "text": "thanks"})),
        conversation(USER, {"role": "assistant", "content": "The answer is"}),  # a prefill
        body(system="Be brief.", tools=[TOOL, {"type": "web_search_20260318", "name": "web_search"}], extra_key=1),
        body(thinking={"type": "enabled", "budget_tokens": 1024}),
        body(thinking={"type": "adaptive", "display": "summarized"}),
        conversation(
            USER,
            assistant(
                {"type": "thinking", "thinking": "hm", "signature": sign_thinking("hm")},
                {"type": "redacted_thinking", "data": "b3BhcXVl"},
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "Found."},
            ),
            USER,
        ),
    ]
    for payload in accepted:
        assert post(client, payload).status_code == 200
    assert claude_server.rejections == []


def test_tool_round_trip_through_the_sdk(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    call = tool_use("get_weather", {"city": "Paris"})
    claude_server.queue(Reply(thinking("I need the weather."), text("Let me check."), call), Reply(text("Sunny.")))
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    params = {
        "model": MODEL,
        "max_tokens": 4000,
        "tools": [TOOL],
        "thinking": {"type": "enabled", "budget_tokens": 2000},
    }
    with client.messages.stream(messages=messages, **params) as stream:
        first = stream.get_final_message()
    messages += [
        {"role": "assistant", "content": first.to_param()["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21 °C"}]},
    ]
    second = client.messages.create(messages=messages, **params)
    assert second.content[0].text == "Sunny."
    assert claude_server.rejections == []
    sent = claude_server.message_requests[1]["messages"][1]["content"]
    assert sent[0]["signature"] == first.content[0].signature


def test_altered_thinking_is_refused(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(thinking("Original thought."), text("Answer.")))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=[USER]) as stream:
        first = stream.get_final_message()
    content = first.to_param()["content"]
    history = [USER, {"role": "assistant", "content": content}, {"role": "user", "content": "More?"}]
    client.messages.create(model=MODEL, max_tokens=100, messages=history)  # unchanged: accepted
    altered = [dict(content[0], thinking="Edited thought."), content[1]]
    history[1] = {"role": "assistant", "content": altered}
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model=MODEL, max_tokens=100, messages=history)
    assert caught.value.api_message == "messages.1.content.0: Invalid `signature` in `thinking` block"


def test_given_signatures_are_accepted_back(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(thinking("Thought.", signature="Z2l2ZW4="), text("Answer.")))
    first = client.messages.create(model=MODEL, max_tokens=100, messages=[USER])
    history = [
        USER,
        {"role": "assistant", "content": first.to_param()["content"]},
        {"role": "user", "content": "More?"},
    ]
    assert client.messages.create(model=MODEL, max_tokens=100, messages=history).content
