"""Header values and a profile's tokens are secrets: sent where they belong, shown nowhere.

Canaries that are not shaped like Anthropic keys, so only the registration of `ClaudeMagic.headers` values
(and the scrubbing of the credential a failed request carried) can keep them out: outputs, errors and their
tracebacks, `%claude history` / `usage` / `auth` / `save` / `export`, `%config ClaudeMagic`, reprs, the
conversation, the SDK's DEBUG logs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError

import claude_magic
from claude_magic.testing import ApiError, LocalServer, MidStreamError, Reply, text
from claude_magic.testing.oauth import IssuedTokens

from ..helpers import exception_texts
from .conftest import CLIENT_ID, Profiles, bearer_tokens, run

HEADER_CANARY = "hdr-canary-7f3a9c2e-DO-NOT-LEAK"
PROFILE_CANARY = "profile-token-canary-5b8d1e-DO-NOT-LEAK"
REFRESH_CANARY = "sk-ant-ort01-canary-refresh-token-DO-NOT-LEAK"      # shaped like the real ones
LONG = "A partial answer that will be cut. " * 4


def echoes(secret: str) -> list[Any]:
    """Server errors whose text repeats `secret` (as a misconfigured gateway might)."""
    return [ApiError(401, message=f"invalid credential {secret}"), ApiError(400, message=f"refused {secret}"),
            Reply(text(LONG), chunk=10, fault=MidStreamError(after_events=5, error_type="api_error",
                                                               message=f"upstream saw {secret}"))]


def everything_visible(shell: Any, tmp_path: Path, capsys: Any, caplog: pytest.LogCaptureFixture,
                       errors: list[BaseException | None]) -> list[str]:
    """Run the commands that show or write the conversation; return every text a user or a log could see."""
    saved, exported = tmp_path / "chat.json", tmp_path / "chat.md"
    for line in ("%claude history", "%claude usage", "%claude auth", f"%claude save {saved}",
                 f"%claude export {exported}", "%config ClaudeMagic", "%claude chats"):
        errors.append(run(shell, line).error_in_exec)
    out = capsys.readouterr()
    session = claude_magic.get_session()
    texts = [out.out, out.err, saved.read_text(), exported.read_text(), caplog.text, repr(session),
             repr(session.settings), repr(session.clients), repr(session.conversation()), repr(session.last),
             repr(session.last.messages), json.dumps(session.conversation().to_dict()), str(session.last.error),
             repr(shell.magics_manager.registry["ClaudeMagic"].settings())]
    texts += [piece for error in errors for piece in exception_texts(error)]
    assert "Saved" in out.out or saved.exists()
    return texts


@pytest.fixture
def on_server(shell: Any, claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """Requests go to the local server through ANTHROPIC_BASE_URL (with the suite's canary API key)."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    return claude_server


def test_header_values_are_sent_but_never_shown(shell: Any, on_server: LocalServer, tmp_path: Path, capsys: Any,
                                                sdk_debug_logs: pytest.LogCaptureFixture) -> None:
    magic = shell.magics_manager.registry["ClaudeMagic"]
    assert run(shell, f"%config ClaudeMagic.headers = {{'x-gateway-key': '{HEADER_CANARY}'}}").success
    assert magic.headers == {"x-gateway-key": HEADER_CANARY}
    shell.user_ns["gateway"] = HEADER_CANARY
    on_server.queue(Reply(text("Fine.")), *echoes(HEADER_CANARY), Reply(text("Noted.")))
    errors = [run(shell, f"%%claude\n{prompt}").error_in_exec for prompt in ("hello", "401", "400", "mid-stream")]
    errors.append(run(shell, "%%claude\nThe gateway key is $`gateway`.").error_in_exec)

    requests = [request for request in on_server.requests if request.is_message]
    assert len(requests) == 5 and all(r.headers["x-gateway-key"] == HEADER_CANARY for r in requests)
    assert "[redacted]" in json.dumps(requests[-1].body)             # the interpolated value was replaced
    assert all(HEADER_CANARY not in json.dumps(r.body) for r in requests)
    texts = everything_visible(shell, tmp_path, capsys, sdk_debug_logs, errors)
    assert sum(piece.count("[redacted]") for piece in texts[:2]) >= 3   # the echoes were there, and replaced
    assert any(record.levelname == "DEBUG" for record in sdk_debug_logs.records)
    for piece in texts:
        assert HEADER_CANARY not in piece, piece[:2000]
    magic.headers = {}


def test_a_profile_token_is_sent_but_never_shown(shell: Any, profiles: Profiles, claude_server: LocalServer,
                                                 tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch,
                                                 sdk_debug_logs: pytest.LogCaptureFixture) -> None:
    """An externally rotated profile (no client_id): its token is in the file, and in every request it signs."""
    credentials = profiles.write("rotated", None, base_url=claude_server.base_url, client_id=None)
    credentials.parent.mkdir(mode=0o700)
    credentials.write_text(json.dumps({"type": "oauth_token", "access_token": PROFILE_CANARY,
                                       "expires_at": int(time.time()) + 3600}))
    credentials.chmod(0o600)
    monkeypatch.setenv("ANTHROPIC_PROFILE", "rotated")
    claude_server.queue(Reply(text("Fine.")), *echoes(PROFILE_CANARY))
    errors = [run(shell, f"%%claude\n{prompt}").error_in_exec for prompt in ("hello", "401", "400", "mid-stream")]
    assert bearer_tokens(claude_server) == [PROFILE_CANARY] * 4
    texts = everything_visible(shell, tmp_path, capsys, sdk_debug_logs, errors)
    assert sum(piece.count("[redacted]") for piece in texts[:2]) >= 3
    for piece in texts:
        assert PROFILE_CANARY not in piece, piece[:2000]


def test_a_refresh_that_echoes_the_refresh_token_shows_neither_token(
        shell: Any, profiles: Profiles, claude_server: LocalServer, tmp_path: Path, capsys: Any,
        monkeypatch: pytest.MonkeyPatch, sdk_debug_logs: pytest.LogCaptureFixture) -> None:
    expired = IssuedTokens(PROFILE_CANARY, REFRESH_CANARY, int(time.time()) - 60)
    profiles.write("work", expired, base_url=claude_server.base_url)
    monkeypatch.setenv("ANTHROPIC_PROFILE", "work")
    claude_server.oauth.fail_next_refresh(400, "invalid_grant", f"unknown refresh token {REFRESH_CANARY}")
    errors = [run(shell, "%%claude\nhello").error_in_exec]
    assert [request.body["refresh_token"] for request in claude_server.requests] == [REFRESH_CANARY]
    texts = everything_visible(shell, tmp_path, capsys, sdk_debug_logs, errors)
    assert "Could not get an access token" in texts[0]
    for piece in texts:
        assert PROFILE_CANARY not in piece and REFRESH_CANARY not in piece, piece[:2000]
    assert profiles.credentials("work")["refresh_token"] == REFRESH_CANARY      # nothing rewrote the file


def test_bad_headers_are_refused_in_one_line_without_their_value(shell: Any, on_server: LocalServer, capsys: Any,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    magic = shell.magics_manager.registry["ClaudeMagic"]
    run(shell, "%config ClaudeMagic.headers = {'x-count': 5}")          # refused at assignment, not stored
    assert magic.headers == {}
    assert "ClaudeMagic.headers['x-count'] must be a string, not int" in caplog.text
    magic.headers["x-line"] = f"{HEADER_CANARY}\r\nx-injected: 1"       # changed in place: checked before use
    result = run(shell, "%%claude\nhello")
    assert not result.success and on_server.requests == []
    out = capsys.readouterr()
    shown = out.out + out.err
    assert "ClaudeMagic.headers['x-line']: the value must be printable ASCII on one line" in shown
    assert "Traceback" not in shown and HEADER_CANARY not in shown + caplog.text
    magic.headers = {}
    with pytest.raises(TraitError, match="is not a header name"):
        magic.headers = {"bad name": "some-value"}
    assert magic.headers == {}


def test_custom_headers_from_the_environment_stay_the_sdks_and_are_secret(
        shell: Any, on_server: LocalServer, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", f"x-env-gateway: {HEADER_CANARY}\nx-team: research")
    on_server.queue(ApiError(403, message=f"forbidden for {HEADER_CANARY}"))
    assert not run(shell, "%%claude\nhello").success
    headers = on_server.requests[-1].headers
    assert headers["x-env-gateway"] == HEADER_CANARY and headers["x-team"] == "research"
    out = capsys.readouterr()
    assert "forbidden for [redacted]" in out.out + out.err and HEADER_CANARY not in out.out + out.err


def test_the_client_serves_many_turns_and_a_client_id_profile_refreshes_once(
        shell: Any, oauth_profile: tuple[Profiles, IssuedTokens], claude_server: LocalServer) -> None:
    """Three turns: one client, one refresh (the SDK keeps the new token; claude-magic keeps none)."""
    for _ in range(3):
        claude_server.queue(Reply(text("ok")))
        assert run(shell, "%%claude\nhi").success
    assert claude_magic.get_session().clients.built == 1
    assert len([r for r in claude_server.requests if r.path == "/v1/oauth/token"]) == 1
    assert CLIENT_ID in json.dumps([r.body for r in claude_server.requests if r.path == "/v1/oauth/token"])
