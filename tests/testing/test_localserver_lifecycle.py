"""Start, stop, records, auth, concurrency, the pytest fixtures and the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import anthropic
import pytest

from claude_magic.testing import LocalServer, Reply, text

MODEL = "claude-opus-4-7"
HELLO = [{"role": "user", "content": "Hello"}]
ROOT = Path(__file__).resolve().parents[2]


def test_start_and_stop_are_fast() -> None:
    starts, stops = [], []
    for _ in range(10):
        server = LocalServer()
        began = time.perf_counter()
        server.start()
        starts.append(time.perf_counter() - began)
        anthropic.Anthropic(base_url=server.base_url, api_key="k").messages.create(
            model=MODEL, max_tokens=10, messages=HELLO
        )
        began = time.perf_counter()
        server.stop()
        stops.append(time.perf_counter() - began)
    assert statistics.median(starts) < 0.02 and max(starts) < 0.1
    assert statistics.median(stops) < 0.05 and max(stops) < 0.2


def test_context_manager_restart_and_base_url() -> None:
    server = LocalServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
        assert server.running
        assert server.start() is server  # idempotent
    assert not server.running
    server.stop()  # stopping twice is harmless
    server.start()
    try:
        assert (
            anthropic.Anthropic(base_url=server.base_url, api_key="k")
            .messages.create(model=MODEL, max_tokens=10, messages=HELLO)
            .content
        )
    finally:
        server.stop()


def test_fixed_port() -> None:
    with LocalServer() as probe:
        port = probe.port
    with LocalServer(port=port) as server:
        assert server.base_url.endswith(f":{port}")


def test_the_function_fixture_is_started(claude_server: LocalServer) -> None:
    assert claude_server.running and claude_server.requests == []


def test_the_session_fixture(claude_server_session: LocalServer) -> None:
    claude_server_session.clear()
    client = anthropic.Anthropic(base_url=claude_server_session.base_url, api_key="k", max_retries=0)
    assert client.messages.create(model=MODEL, max_tokens=10, messages=HELLO).content


def test_the_env_fixture(claude_env: LocalServer) -> None:
    assert os.environ["ANTHROPIC_BASE_URL"] == claude_env.base_url
    claude_env.queue(Reply(text("from the environment")))
    message = anthropic.Anthropic(max_retries=0).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert message.content[0].text == "from the environment"


def test_requests_are_recorded(claude_server: LocalServer) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="secret-key", max_retries=0)
    client.messages.create(model=MODEL, max_tokens=10, messages=HELLO, system="Be brief.")
    client.messages.count_tokens(model=MODEL, messages=HELLO)
    client.models.list()
    recorded = claude_server.requests
    assert [(r.method, r.path.split("?")[0]) for r in recorded] == [
        ("POST", "/v1/messages"),
        ("POST", "/v1/messages/count_tokens"),
        ("GET", "/v1/models"),
    ]
    assert recorded[0].headers["authorization"] == "Bearer secret-key"
    assert "anthropic-version" in recorded[0].headers
    assert recorded[0].body["system"] == "Be brief."
    assert recorded[2].body is None
    assert claude_server.message_requests == [recorded[0].body]
    claude_server.queue(Reply(text("x")))
    claude_server.clear()
    assert (claude_server.requests, claude_server.rejections, claude_server.queued) == ([], [], 0)


def raw_request(url: str, headers: dict[str, str], payload: object = None) -> tuple[int, dict[str, object]]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_auth(claude_server: LocalServer) -> None:
    payload = {"model": MODEL, "max_tokens": 10, "messages": HELLO}
    url = f"{claude_server.base_url}/v1/messages"
    status, answer = raw_request(url, {}, payload)
    assert status == 401 and answer["error"]["type"] == "authentication_error"
    assert raw_request(url, {"x-api-key": "anything"}, payload)[0] == 200
    claude_server.require_api_key = "the-key"
    status, answer = raw_request(url, {"x-api-key": "wrong"}, payload)
    assert (status, answer["error"]["message"]) == (401, "invalid x-api-key")
    assert raw_request(url, {"x-api-key": "the-key"}, payload)[0] == 200
    assert raw_request(url, {"authorization": "Bearer the-key"}, payload)[0] == 200
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=claude_server.base_url, api_key="wrong", max_retries=0).models.list()
    assert len(claude_server.requests) == 6  # refused requests are recorded too


def test_unknown_route(claude_server: LocalServer) -> None:
    status, answer = raw_request(f"{claude_server.base_url}/v1/nothing", {"x-api-key": "k"})
    assert status == 404 and answer["error"]["type"] == "not_found_error"


def test_concurrent_streams(claude_server: LocalServer) -> None:
    claude_server.default = lambda body: Reply(text(body["messages"][0]["content"] * 50), delay=0.001)
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k", max_retries=0)
    results: dict[int, str] = {}

    def run(n: int) -> None:
        with client.messages.stream(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": f"<{n}>"}]) as s:
            results[n] = s.get_final_message().content[0].text

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == {n: f"<{n}>" * 50 for n in range(8)}
    assert len(claude_server.message_requests) == 8


def test_keep_alive_connections_do_not_block_stop() -> None:
    server = LocalServer().start()
    client = anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0)
    for _ in range(3):
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)  # pooled keep-alive connection
    began = time.perf_counter()
    server.stop()
    assert time.perf_counter() - began < 0.2


def test_command_line() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "claude_magic.testing", "--port", "0", "--delay", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.fullmatch(r"ANTHROPIC_BASE_URL=(http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        usage_line = process.stdout.readline()
        assert f"export ANTHROPIC_BASE_URL={match.group(1)} ANTHROPIC_API_KEY=local-test-key" in usage_line
        client = anthropic.Anthropic(base_url=match.group(1), api_key="local-test-key", max_retries=0)
        assert (
            "Local test server" in client.messages.create(model=MODEL, max_tokens=100, messages=HELLO).content[0].text
        )
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "POST /v1/messages -> 200" in err
