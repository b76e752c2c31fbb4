"""`claude_magic.map` with the Message Batches API, and the local server's batch endpoints through the real SDK."""

from __future__ import annotations

from typing import Any, Literal

import anthropic
import pandas as pd
import polars as pl
import pydantic
import pytest

import claude_magic
from claude_magic.core.pricing import cost_of
from claude_magic.core.usage import Usage
from claude_magic.rows import BatchLimits
from claude_magic.testing import ApiError, LocalServer, echo_reply

from ..helpers import wait_until
from .conftest import MODEL


class Ticket(pydantic.BaseModel):
    label: Literal["bug", "feature", "question"]
    words: int


def frame(count: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"note {i} " + "more " * (i % 5) for i in range(count)]},
                        index=pd.RangeIndex(100, 100 + count))


def test_a_thousand_rows_as_one_batch_at_half_price(shell: Any, claude_server: LocalServer) -> None:
    data = frame(1000)
    result = claude_magic.map("Classify: {text}", data, output=Ticket, mode="batch", progress=False)
    table = result.frame
    assert list(table.index) == list(data.index) and (table["status"] == "ok").all()
    assert table["words"].tolist() == [len(f"Classify: {t}".split()) for t in data["text"]]
    assert len(claude_server.batches.ids) == 1 and result.batch_ids == claude_server.batches.ids
    assert claude_server.message_requests == []                    # nothing went through /v1/messages
    for outcome in list(result.outcomes.values())[:50]:           # the batch price: half of the live price
        usage = Usage(input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
                      cache_read_input_tokens=outcome.cache_read_tokens,
                      cache_creation_input_tokens=outcome.cache_write_tokens)
        assert outcome.cost == pytest.approx(cost_of(usage, MODEL) / 2) and outcome.cost > 0


def test_the_journal_holds_every_collected_row(shell: Any, claude_server: LocalServer) -> None:
    data = frame(300)
    result = claude_magic.map("Classify: {text}", data, output=Ticket, mode="batch", progress=False)
    sent = claude_server.batches.requests_of(result.batch_ids[0])
    assert [r["custom_id"] for r in sent] == [f"row-{i}" for i in range(300)]
    assert sent[7]["params"]["messages"][0]["content"][1] == {"type": "text", "text": data["text"].iloc[7]}
    assert sent[7]["params"]["output_config"]["format"]["type"] == "json_schema"
    # After a restart only the run id is left: the journal has every row, nothing is asked again.
    again = claude_magic.map_resume(result.run_id, output=Ticket, progress=False)
    assert again.totals["ok"] == 300 and len(claude_server.batches.ids) == 1
    assert again.frame["words"].tolist() == result.frame["words"].tolist()
    assert list(again.frame.index) == list(data.index)


def test_a_request_that_is_not_json_fails_alone(shell: Any, claude_server: LocalServer) -> None:
    def blocks(row: dict[str, Any]) -> list[dict[str, Any]]:
        odd = {"type": "text", "text": row["text"], "tags": {"a"}} if row["text"].startswith("note 4 ") else None
        return [odd or {"type": "text", "text": row["text"]}]

    result = claude_magic.map(blocks, frame(6), mode="batch", progress=False)
    table = result.frame
    assert table.loc[104, "status"] == "error"
    assert table.loc[104, "error"] == "the request cannot be sent as JSON: Object of type set is not JSON serializable"
    assert (table.drop(104)["status"] == "ok").all() and len(claude_server.batches.requests_of(result.batch_ids[0])) == 5


def test_polars_rows_split_at_the_limits(shell: Any, claude_server: LocalServer) -> None:
    data = pl.DataFrame({"text": [f"item {i}" for i in range(1000)]})
    claude_server.batches.max_bytes = 60_000                       # a gateway with a lower size limit: 413, split
    result = claude_magic.map("Describe {text}", data, mode="batch", batch_limits=BatchLimits(requests=400),
                              progress=False)
    assert result.frame["status"].to_list() == ["ok"] * 1000
    assert all(f"item {i}" in text for i, text in enumerate(result.frame["text"].to_list()))
    sizes = [len(claude_server.batches.requests_of(b)) for b in claude_server.batches.ids]
    assert sum(sizes) == 1000 and len(sizes) > 3 and max(sizes) <= 400    # 400/400/200, each halved for size


def test_errored_rows_keep_their_error(shell: Any, claude_server: LocalServer) -> None:
    def answer(body: dict[str, Any]) -> Any:
        return ApiError(529, message="Overloaded") if "note 3 " in str(body["messages"]) else echo_reply(body)
    claude_server.default = answer
    data = frame(10)
    data.loc[105, "text"] = ""                                     # an empty text block: the API refuses it
    result = claude_magic.map(lambda row: [{"type": "text", "text": row["text"]}], data, mode="batch", progress=False)
    table = result.frame
    assert table.loc[103, "status"] == "error" and table.loc[103, "error"] == "overloaded_error: Overloaded"
    assert table.loc[105, "status"] == "error" and "text content blocks must be non-empty" in table.loc[105, "error"]
    assert (table.drop([103, 105])["status"] == "ok").all()


def test_stop_cancels_the_batch_and_resume_finishes(shell: Any, claude_server: LocalServer) -> None:
    claude_server.batches.hold()
    run = claude_magic.map("Classify: {text}", frame(30), mode="batch", wait=False, progress=False)
    wait_until(lambda: claude_server.batches.ids, "the batch")
    run.stop()
    stopped = run.result()
    assert stopped.totals["canceled"] == 30 and stopped.totals["ok"] == 0
    batch = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k").messages.batches.retrieve(stopped.batch_ids[0])
    assert batch.processing_status == "ended" and batch.request_counts.canceled == 30
    claude_server.batches.release()
    resumed = claude_magic.map_resume(stopped, progress=False)
    assert resumed.totals["ok"] == 30 and len(resumed.batch_ids) == 2


def test_expired_rows_and_resume_from_a_batch_id(shell: Any, claude_server: LocalServer) -> None:
    claude_server.batches.hold()
    run = claude_magic.map("Classify: {text}", frame(20), mode="batch", wait=False, progress=False)
    wait_until(lambda: claude_server.batches.ids, "the batch")
    claude_server.batches.expire(claude_server.batches.ids[0])
    result = run.result()
    assert result.totals["expired"] == 20 and set(result.frame["status"]) == {"expired"}
    # A batch submitted elsewhere (not recorded here) is matched to the rows given.
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k")
    requests = [{"custom_id": f"row-{i}", "params": {"model": MODEL, "max_tokens": 100,
                                                     "messages": [{"role": "user", "content": f"Q{i}"}]}} for i in range(3)]
    batch = client.messages.batches.create(requests=requests)
    collected = claude_magic.map_resume(batch.id, data=["Q0", "Q1", "Q2"], prompt="{value}", progress=False)
    assert collected.totals["ok"] == 3 and "Q2" in collected["text"][2]


def test_a_batch_from_elsewhere_is_priced_with_its_one_hour_cache_writes(shell: Any, claude_server: LocalServer) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k")
    rules = {"type": "text", "text": "Answer in one word. " * 40, "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    requests = [{"custom_id": f"row-{i}", "params": {"model": MODEL, "max_tokens": 100, "system": [rules],
                                                     "messages": [{"role": "user", "content": f"Q{i}"}]}}
                for i in range(2)]
    batch = client.messages.batches.create(requests=requests)
    assert claude_server.batches.wait(batch.id)
    typed = {line.custom_id: line.result.message.usage for line in client.messages.batches.results(batch.id)}
    assert typed["row-0"].cache_creation.ephemeral_1h_input_tokens > 0
    collected = claude_magic.map_resume(batch.id, data=["Q0", "Q1"], prompt="{value}", progress=False)
    for custom_id, usage in typed.items():                         # priced as the SDK's own Usage reads it
        assert collected.outcomes[custom_id].cost == pytest.approx(cost_of(Usage.from_sdk(usage), MODEL) / 2)


def test_auto_mode_says_when_it_uses_batches(shell: Any, claude_server: LocalServer, capsys: Any) -> None:
    result = claude_magic.map("Classify: {text}", frame(60), batch_above=50, progress=False)
    assert result.totals["mode"] == "batch" and "60 requests (more than batch_above=50) go to the Message Batches" \
        in capsys.readouterr().out
    assert claude_magic.map("Classify: {text}", frame(40), batch_above=50, progress=False).totals["mode"] == "live"


def test_the_local_batch_endpoints(claude_server: LocalServer) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k", max_retries=0)
    params = {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(anthropic.BadRequestError, match="custom_id: String should match pattern"):
        client.messages.batches.create(requests=[{"custom_id": "no spaces", "params": params}])
    with pytest.raises(anthropic.BadRequestError, match="custom_id values must be unique"):
        client.messages.batches.create(requests=[{"custom_id": "a", "params": params}] * 2)
    claude_server.batches.max_bytes = 500
    with pytest.raises(anthropic.APIStatusError, match="maximum request size is 500 bytes") as raised:
        client.messages.batches.create(requests=[{"custom_id": f"r{i}", "params": params} for i in range(10)])
    assert raised.value.status_code == 413
    claude_server.batches.max_bytes = 256 * 1024 * 1024
    claude_server.batches.hold()
    first = client.messages.batches.create(requests=[{"custom_id": "a", "params": params}])
    assert first.processing_status == "in_progress" and first.request_counts.processing == 1 and not first.results_url
    with pytest.raises(anthropic.AnthropicError, match="Has it finished processing"):
        client.messages.batches.results(first.id)
    with pytest.raises(anthropic.BadRequestError, match="has not finished processing"):
        client.get(f"/v1/messages/batches/{first.id}/results", cast_to=object)
    canceling = client.messages.batches.cancel(first.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    claude_server.batches.release()
    second = client.messages.batches.create(requests=[{"custom_id": "b", "params": params},
                                                      {"custom_id": "c", "params": {**params, "max_tokens": 0}}])
    assert claude_server.batches.wait(second.id)
    ended = client.messages.batches.retrieve(second.id)
    assert ended.processing_status == "ended" and (ended.request_counts.succeeded, ended.request_counts.errored) == (1, 1)
    lines = {line.custom_id: line.result for line in client.messages.batches.results(second.id)}
    assert lines["b"].type == "succeeded" and "you said: “hi”" in lines["b"].message.content[0].text
    assert lines["c"].type == "errored" and "greater than or equal to 1" in lines["c"].error.error.message
    page = client.messages.batches.list(limit=1)
    assert [b.id for b in page.data] == [second.id] and page.has_more
    assert [b.id for b in client.messages.batches.list(limit=5, after_id=second.id).data] == [first.id]
    assert client.messages.batches.retrieve(first.id).request_counts.canceled == 1
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve("msgbatch_nope")
