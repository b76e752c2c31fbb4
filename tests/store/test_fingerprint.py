"""The request fingerprint: what changes it (everything the request asks with) and what does not (transport)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from claude_magic.core.settings import Settings
from claude_magic.replay.fingerprint import request_document, request_fingerprint
from claude_magic.tools import default_toolbox

BASE = Settings(model="claude-sonnet-5-5")
PROMPT = [{"type": "text", "text": "Summarize df"}]
HISTORY = [{"role": "user", "content": [{"type": "text", "text": "hello"}]},
           {"role": "assistant", "content": [{"type": "text", "text": "Hi! How can I help?"}]}]
TOOLS = default_toolbox().definitions(None)


def fingerprint(*, messages: list[dict[str, Any]] = HISTORY, prompt: list[dict[str, Any]] = PROMPT,
                settings: Settings = BASE, engine: str = "api", tools: list[dict[str, Any]] = TOOLS) -> str:
    return request_fingerprint(messages, prompt, settings, engine, tools)


def test_the_same_request_gives_the_same_fingerprint() -> None:
    first = fingerprint()
    assert first == fingerprint(messages=[dict(message) for message in HISTORY], prompt=[dict(PROMPT[0])])
    assert len(first) == 64 and int(first, 16) >= 0


@pytest.mark.parametrize("change", [
    {"prompt": [{"type": "text", "text": "Summarize df2"}]},
    {"prompt": PROMPT + [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]},
    {"messages": HISTORY[:1] + [{"role": "assistant", "content": [{"type": "text", "text": "Hi!"}]}]},
    {"messages": []},
    {"settings": replace(BASE, model="claude-opus-5-5")},
    {"settings": replace(BASE, system="Be terse.")},
    {"settings": replace(BASE, thinking="adaptive")},
    {"settings": replace(BASE, thinking=4000)},
    {"settings": replace(BASE, effort="high")},
    {"settings": replace(BASE, max_tokens=1000)},
    {"settings": replace(BASE, output_format={"type": "json_schema", "schema": {"type": "object"}})},
    {"settings": replace(BASE, thinking_display="omitted", thinking="adaptive")},
    {"engine": "claude-code"},
    {"tools": []},
    {"tools": TOOLS[:1]},
    {"tools": [{**TOOLS[0], "description": TOOLS[0]["description"] + " (changed)"}] + TOOLS[1:]},
], ids=lambda change: next(iter(change)) + ":" + repr(next(iter(change.values())))[:40])
def test_what_defines_the_request_changes_it(change: dict[str, Any]) -> None:
    assert fingerprint(**change) != fingerprint()


@pytest.mark.parametrize("settings", [
    replace(BASE, cache=False), replace(BASE, cache_ttl="1h"), replace(BASE, base_url="http://127.0.0.1:9/"),
    replace(BASE, timeout=5.0), replace(BASE, max_retries=7), replace(BASE, max_steps=3),
    replace(BASE, tool_timeout=1.0), replace(BASE, extra_headers={"x-gateway": "secret-value"}),
    replace(BASE, replay=False), replace(BASE, rerun="append"), replace(BASE, context_window_check=False),
    replace(BASE, model="sonnet"),                   # the alias names the same model
], ids=lambda settings: next(f"{key}={value!r}"[:40] for key, value in vars(settings).items()
                             if value != getattr(BASE, key)))
def test_how_the_request_travels_does_not(settings: Settings) -> None:
    assert fingerprint(settings=settings) == fingerprint()


def test_key_order_and_json_spelling_do_not_matter() -> None:
    reordered = [{"content": list(message["content"]), "role": message["role"]} for message in HISTORY]
    prompt = [{"text": "Summarize df", "type": "text"}]
    assert fingerprint(messages=reordered, prompt=prompt) == fingerprint()


def test_claude_code_tools_count_only_for_claude_code() -> None:
    with_tools = replace(BASE, claude_code_tools=("Read", "Bash"))
    assert fingerprint(settings=with_tools) == fingerprint()
    assert fingerprint(settings=with_tools, engine="claude-code") != fingerprint(engine="claude-code")
    assert fingerprint(settings=with_tools, engine="claude-code") == fingerprint(
        settings=replace(BASE, claude_code_tools=("Bash", "Read")), engine="claude-code")


def test_a_secret_in_the_prompt_is_hashed_as_sent() -> None:
    from claude_magic.core.redaction import register_secret

    register_secret("sk-ant-fingerprint-secret-0123456789")
    document = request_document(HISTORY, [{"type": "text", "text": "key sk-ant-fingerprint-secret-0123456789"}],
                                BASE, "api", [])
    assert "sk-ant-fingerprint-secret-0123456789" not in repr(document)


def test_the_incremental_fingerprint_is_the_one_hashing_the_whole_document_gives() -> None:
    """Turn after turn (messages appended, a content replaced, turns dropped, a copied last message),
    the kept hash states give exactly sha256 of the canonical JSON of the whole request document (issue 25)."""
    import hashlib
    import json

    from claude_magic.core.settings import Settings
    from claude_magic.replay.fingerprint import request_document, request_fingerprinter

    settings = Settings(model="claude-sonnet-5-5")
    messages: list[dict[str, Any]] = []
    for number in range(60):
        messages.append({"role": "user" if number % 2 == 0 else "assistant",
                         "content": [{"type": "text", "text": f"héllo {number}"}]})
        if number % 7 == 3:
            messages[-1]["content"] = messages[-1]["content"] + [{"type": "text", "text": "more"}]
        if number % 11 == 5:
            del messages[-3:]
        if number % 5 == 4 and len(messages) > 3:       # an earlier message's content replaced (thinking withheld)
            messages[-3]["content"] = [{"type": "text", "text": f"withheld {number}"}]
        prompt = [{"type": "text", "text": f"prompt {number}"}]
        history = list(messages)
        if history:
            history[-1] = dict(history[-1])
        whole = json.dumps({**request_document([], prompt, settings, "api", []), "messages": history},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
        expected = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()
        assert request_fingerprinter(prompt, settings, "api", [])(history) == expected, number
