"""Structured answers end to end: `ask(output=...)`, `%%claude --schema/--out`, misfits, and the local server's checks."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import anthropic
import pydantic
import pytest
from IPython.core.error import UsageError
from typing_extensions import TypedDict

import claude_magic
from claude_magic.core.structured import StructuredOutputError
from claude_magic.testing import LocalServer, Reply

from .conftest import MODEL


class Ticket(pydantic.BaseModel):
    label: Literal["bug", "feature"]
    summary: str
    words: int


@dataclasses.dataclass
class Point:
    x: int
    tags: list[str]


class Flags(TypedDict):
    urgent: bool


def test_ask_with_a_model_returns_the_validated_object(shell: Any, claude_server: LocalServer) -> None:
    result = claude_magic.ask("Classify: the app crashes on start", output=Ticket, display=False)
    assert isinstance(result.output, Ticket)
    assert result.output.summary == "Classify: the app crashes on start" and result.output.words == 6
    fmt = claude_server.message_requests[-1]["output_config"]["format"]
    assert fmt["type"] == "json_schema"                     # the SDK's own transform: strict objects
    assert fmt["schema"]["additionalProperties"] is False and fmt["schema"]["required"] == ["label", "summary", "words"]
    assert result.output_error is None


@pytest.mark.parametrize(("output", "expected"), [
    (Point, Point(x=3, tags=["one two three"])),
    (Flags, {"urgent": False}),
    ({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}, {"n": 3}),
])
def test_dataclasses_typeddicts_and_schema_dicts(shell: Any, output: Any, expected: Any) -> None:
    assert claude_magic.ask("one two three", output=output, display=False, new=True).output == expected


def test_cell_schema_and_out(shell: Any, claude_server: LocalServer) -> None:
    shell.user_ns["Ticket"] = Ticket
    shell.run_cell_magic("claude", "--schema Ticket --out ticket", "Classify: login fails")
    assert isinstance(shell.user_ns["ticket"], Ticket) and shell.user_ns["ticket"].words == 3
    shell.run_cell_magic("claude", "-o answer --new", "Say hi")
    assert shell.user_ns["answer"].startswith("**Local test server**")
    assert "output_config" not in claude_server.message_requests[-1]
    del shell.user_ns["ticket"], shell.user_ns["answer"], shell.user_ns["Ticket"]


def test_a_misfit_is_one_line_and_keeps_the_turn(shell: Any, claude_server: LocalServer) -> None:
    shell.user_ns["Ticket"] = Ticket
    claude_server.queue(Reply('{"label": "question", "summary": "x", "words": 1}'))
    with pytest.raises(StructuredOutputError) as raised:
        shell.run_cell_magic("claude", "--schema Ticket --out ticket", "Classify: slow page")
    assert "\n" not in str(raised.value) and "label: Input should be 'bug' or 'feature'" in str(raised.value)
    result = raised.value.result
    assert result.output is None and result.text.startswith('{"label": "question"') and result.ok
    assert "ticket" not in shell.user_ns
    session = claude_magic.get_session()
    assert session.last is result and len(session.conversation()) == 1   # the turn is kept
    claude_server.queue(Reply("not json at all"))
    again = claude_magic.ask("Again", output=Ticket, display=False, raise_errors=False)
    assert again.output is None and again.output_error.startswith("The answer is not valid JSON")
    assert claude_magic.ask("And now?", output=Ticket, display=False).output.label in ("bug", "feature")
    assert len(session.conversation()) == 3
    del shell.user_ns["Ticket"]


def test_bad_schema_options_are_one_line(shell: Any) -> None:
    with pytest.raises(UsageError, match="no variable named 'Nope'"):
        shell.run_cell_magic("claude", "--schema Nope", "x")
    shell.user_ns["number"] = 3
    with pytest.raises(UsageError, match="--schema number: output must be a pydantic model"):
        shell.run_cell_magic("claude", "--schema number", "x")
    with pytest.raises(UsageError, match="--out takes a variable name"):
        shell.run_cell_magic("claude", "--out 1x", "x")
    del shell.user_ns["number"]
    assert claude_magic.get_session().last is None             # nothing was sent


@pytest.mark.parametrize(("schema", "message"), [
    ({"type": "object", "properties": {"a": {"type": "string"}}}, "'additionalProperties' must be explicitly set to false"),
    ({"type": "object", "additionalProperties": False, "properties": {"a": {"oneOf": []}}}, "'oneOf' is not supported"),
    ({"type": "strng"}, "'strng' is not a JSON Schema type"),
    ({"$ref": "#/$defs/Missing"}, "does not resolve"),
])
def test_the_local_server_refuses_malformed_schemas(claude_server: LocalServer, schema: dict[str, Any],
                                                    message: str) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match=message):
        client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}],
                               output_config={"format": {"type": "json_schema", "schema": schema}})
