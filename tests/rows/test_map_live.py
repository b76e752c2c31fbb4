"""`claude_magic.map` in live mode against the local server: pandas and polars, alignment, identical prompts, faults, stop and resume."""

from __future__ import annotations

import time
from typing import Any, Literal

import pandas as pd
import polars as pl
import pydantic
import pytest

import claude_magic
from claude_magic.core.errors import ConfigurationError
from claude_magic.rows.confirm import MapDeclined
from claude_magic.testing import ApiError, LocalServer, Reply, echo_reply

from ..helpers import wait_until
from .conftest import requests_for


class Ticket(pydantic.BaseModel):
    label: Literal["bug", "feature", "question"]
    words: int


def tickets(count: int) -> pd.DataFrame:
    texts = [f"ticket {i} " + "word " * (i % 7) for i in range(count)]
    if count >= 20:
        texts[10:20] = ["the same ticket"] * 10                   # identical prompts: sent once
    return pd.DataFrame({"text": texts, "id": range(count)}, index=pd.Index([f"T{i}" for i in range(count)], name="key"))


def test_a_thousand_row_pandas_frame_with_a_schema(shell: Any, claude_server: LocalServer) -> None:
    frame = tickets(1000)
    result = claude_magic.map("Classify this ticket: {text}", frame, output=Ticket, mode="live", concurrency=16,
                              progress=False)
    table = result.frame
    assert list(table.index) == list(frame.index) and table.index.name == "key"
    assert list(table.columns) == ["label", "words", "status", "error", "input_tokens", "output_tokens", "cost"]
    assert (table["status"] == "ok").all() and table["error"].isna().all()
    expected = [len(f"Classify this ticket: {text}".split()) for text in frame["text"]]
    assert table["words"].tolist() == expected                     # each answer landed on its own row
    bodies = claude_server.message_requests
    assert len(bodies) == 991                                      # 1,000 rows, 10 identical: 991 requests
    assert requests_for(claude_server, "the same ticket") == 1
    first = bodies[0]["messages"][0]["content"]
    assert first[0] == {"type": "text", "text": "Classify this ticket: ", "cache_control": {"type": "ephemeral"}}
    totals = result.totals
    assert totals["ok"] == 1000 and totals["requests"] == 991 and totals["mode"] == "live"
    assert totals["cost"] == pytest.approx(table["cost"].sum()) and totals["cost"] > 0
    assert table.attrs["claude_magic"]["run_id"] == result.run_id
    assert all(isinstance(item, Ticket) for item in result.outputs)


def test_a_thousand_row_polars_frame_as_text(shell: Any, claude_server: LocalServer) -> None:
    frame = pl.DataFrame({"name": [f"product {i}" for i in range(1000)], "price": list(range(1000))})
    result = claude_magic.map(lambda row: f"Describe {row['name']} at {row['price']} EUR", frame, mode="live",
                              system="Be brief.", progress=False)
    table = result.frame
    assert isinstance(table, pl.DataFrame) and table.height == 1000
    assert table["status"].to_list() == ["ok"] * 1000
    assert all(f"Describe product {i} at {i} EUR" in text for i, text in enumerate(table["text"].to_list()))
    system = claude_server.message_requests[0]["system"]
    assert system == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]


def test_series_lists_and_template_errors(shell: Any) -> None:
    series = pd.Series(["red", "green"], index=[7, 9], name="colour")
    result = claude_magic.map("Name a fruit that is {colour}", series, progress=False)
    assert list(result.frame.index) == [7, 9] and "that is green" in result["text"][9]
    assert "Rhyme with blue" in claude_magic.map("Rhyme with {}", ["blue"], progress=False)["text"][0]
    with pytest.raises(ConfigurationError, match=r"uses \{txt\}, but the rows have no such field \(fields: text, id\)"):
        claude_magic.map("Classify {txt}", tickets(3), progress=False)
    with pytest.raises(ConfigurationError, match="the prompt function failed on row 0: KeyError"):
        claude_magic.map(lambda row: row["nope"], tickets(3), progress=False)
    with pytest.raises(ConfigurationError, match="mode must be one of auto, live, batch"):
        claude_magic.map("x {text}", tickets(3), mode="fast", progress=False)
    with pytest.raises(ConfigurationError, match="map needs rows"):
        claude_magic.map("x {text}", 42, progress=False)


def test_429s_with_retry_after_make_the_pool_back_off(shell: Any, claude_server: LocalServer) -> None:
    claude_server.traffic.max_concurrent = 3                       # more in flight: 429 with retry-after
    claude_server.traffic.latency = 0.02
    result = claude_magic.map("Classify: {text}", tickets(300), mode="live", concurrency=16, progress=False)
    assert claude_server.traffic.rate_limited > 0                   # the server did push back
    assert result.totals["ok"] == 300                              # and every row still made it (SDK retries)


def test_rate_limit_headers_pause_the_pool_until_reset(shell: Any, claude_server: LocalServer) -> None:
    claude_server.traffic.requests_per_window, claude_server.traffic.window = 40, 1.0
    started = time.monotonic()
    result = claude_magic.map("Summarize: {text}", tickets(100).head(95), mode="live", concurrency=8, progress=False)
    assert result.totals["ok"] == 95 and result.totals["requests"] == 86
    assert time.monotonic() - started >= 2.0                       # 86 requests at 40 a second: three windows


def test_failures_stay_on_their_rows(shell: Any, claude_server: LocalServer) -> None:
    claude_server.max_request_bytes = 30_000
    frame = tickets(40)
    frame.loc["T5", "text"] = "huge " * 10_000                     # too large for the server: 413
    def answer(body: dict[str, Any]) -> Any:
        text = str(body["messages"])
        if "ticket 7 " in text:
            return ApiError(500, message="the server broke")
        if "ticket 8 " in text:
            return Reply('{"label": "nonsense", "words": 1}')       # does not fit the schema
        return echo_reply(body)
    claude_server.default = answer
    result = claude_magic.map("Classify: {text}", frame, output=Ticket, max_retries=1, progress=False)
    table = result.frame
    assert table.loc["T5", "status"] == "error" and table.loc["T5", "error"].startswith("413 request_too_large")
    assert table.loc["T7", "status"] == "error" and table.loc["T7", "error"] == "500 api_error: the server broke"
    assert table.loc["T8", "status"] == "invalid" and "label" in table.loc["T8", "error"]
    assert pd.isna(table.loc["T8", "label"]) and result.outcomes["row-8"].text.startswith('{"label": "nonsense"')
    assert requests_for(claude_server, "ticket 7 ") == 2           # the SDK's own retry, then the row's error
    assert (table.drop(["T5", "T7", "T8"])["status"] == "ok").all()
    assert result.totals["error"] == 2 and result.totals["invalid"] == 1


def test_a_stopped_run_keeps_its_rows_and_resumes(shell: Any, claude_server: LocalServer, runs: Any) -> None:
    claude_server.traffic.latency = 0.05
    frame = tickets(200)
    run = claude_magic.map("Classify: {text}", frame, mode="live", concurrency=4, wait=False, progress=False)
    wait_until(lambda: sum(o.status == "ok" for o in run._runner.outcomes.values()) >= 20, "some finished rows")
    run.stop()
    stopped = run.result()
    assert stopped.totals["canceled"] > 0 and 20 <= stopped.totals["ok"] < 200
    assert "stopped" in stopped.summary()
    kept = {job_id for job_id, o in stopped.outcomes.items() if o.status == "ok"}
    sent_before = len(claude_server.message_requests)
    claude_server.traffic.latency = 0.0
    resumed = claude_magic.map_resume(stopped, progress=False)
    assert resumed.totals["ok"] == 200 and list(resumed.frame.index) == list(frame.index)
    resent = len(claude_server.message_requests) - sent_before
    assert resent >= 191 - len(kept)
    for job_id in kept - {"row-10"}:                                # finished rows were not asked again
        assert requests_for(claude_server, f"ticket {job_id.removeprefix('row-')} ") == 1
    # After a restart only the run id is left: the journal on disk has every row.
    again = claude_magic.map_resume(resumed.run_id, progress=False)
    assert again.totals["ok"] == 200 and len(claude_server.message_requests) - sent_before == resent
    assert again.frame["text"].tolist() == resumed.frame["text"].tolist()
    assert list(again.frame.index) == list(frame.index)


def test_cost_above_the_limit_asks_first(shell: Any, claude_server: LocalServer) -> None:
    with pytest.raises(MapDeclined, match=r"Not started: it may cost up to \$.*above the \$0.01 limit, and there is no way"):
        claude_magic.map("Classify: {text}", tickets(100), max_cost=0.01, progress=False)
    assert claude_server.message_requests == []                    # only count_tokens was asked
    magic = shell.magics_manager.registry["ClaudeMagic"]
    magic.map_confirm_above = 0.01
    with pytest.raises(MapDeclined):
        claude_magic.map("Classify: {text}", tickets(100), progress=False)
    result = claude_magic.map("Classify: {text}", tickets(100), max_cost=1000, progress=False)
    assert result.totals["ok"] == 100


def test_a_row_still_rate_limited_after_the_sdks_retries_waits_its_turn_again(shell: Any,
                                                                               claude_server: LocalServer) -> None:
    from claude_magic.rows.live import REQUEUES

    frame = pd.DataFrame({"text": ["first", "second"]})
    claude_server.queue(*[ApiError(429, retry_after=0.01)] * REQUEUES)      # no SDK retries: each 429 reaches the pool
    result = claude_magic.map("Echo {text}", frame, mode="live", concurrency=1, max_retries=0, progress=False)
    assert result.frame["status"].tolist() == ["ok", "ok"], result.frame["error"].tolist()
    assert len(claude_server.message_requests) == 2 + REQUEUES
    claude_server.clear()
    claude_server.queue(*[ApiError(429, retry_after=0.01)] * (REQUEUES + 1))   # one more than the pool gives a row
    result = claude_magic.map("Echo again {text}", frame.head(1), mode="live", max_retries=0, progress=False)
    assert result.frame["status"].tolist() == ["error"]
    assert result.frame["error"].iloc[0].startswith("429 rate_limit_error")   # the row keeps its error
