"""`GET /v1/models` and `GET /v1/models/{id}` through the SDK."""

from __future__ import annotations

import anthropic
import pytest

from claude_magic.testing import LocalServer

REQUIRED = [
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-opus-5",
    "claude-sonnet-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-opus-4-5",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
]


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


def test_list_has_every_model(client: anthropic.Anthropic) -> None:
    page = client.models.list()
    ids = [m.id for m in page.data]
    assert set(REQUIRED) <= set(ids)
    assert page.has_more is False
    assert page.first_id == ids[0] and page.last_id == ids[-1]
    for model in page.data:
        assert model.type == "model"
        assert model.display_name.startswith("Claude ")
        assert model.max_input_tokens in (200_000, 1_000_000)
        assert model.max_tokens in (64_000, 128_000)
        assert model.created_at.year >= 2025
        assert model.capabilities is not None and model.capabilities.thinking.supported


def test_pagination(client: anthropic.Anthropic) -> None:
    first = client.models.list(limit=5)
    assert len(first.data) == 5 and first.has_more
    everything = [m.id for m in client.models.list(limit=5)]  # auto-paging follows last_id
    assert everything == [m.id for m in client.models.list().data]
    before = client.models.list(limit=2, before_id=first.data[3].id)
    assert [m.id for m in before.data] == [m.id for m in first.data[1:3]]


def test_retrieve(client: anthropic.Anthropic) -> None:
    model = client.models.retrieve("claude-opus-4-6")
    assert model.id == "claude-opus-4-6"
    assert model.display_name == "Claude Opus 4.6"
    assert model.max_input_tokens == 1_000_000


def test_retrieve_unknown(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.models.retrieve("claude-nothing")
    assert caught.value.api_message == "model: claude-nothing"


def test_the_catalogue_is_editable(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.models["claude-test-1"] = dict(claude_server.models["claude-opus-4-7"], id="claude-test-1")
    assert client.models.retrieve("claude-test-1").id == "claude-test-1"
    message = client.messages.create(model="claude-test-1", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert message.model == "claude-test-1"
