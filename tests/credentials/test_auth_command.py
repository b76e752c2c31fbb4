"""`%claude auth` in a real IPython shell: which credential, where from, the Claude Code login, the engine chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claude_magic.testing import LocalServer
from claude_magic.testing.oauth import IssuedTokens

from .conftest import CLIENT_ID, Profiles, run


def auth(shell: Any, capsys: Any) -> dict[str, str]:
    """`%claude auth`'s lines by their bold label."""
    capsys.readouterr()
    assert run(shell, "%claude auth").success
    out = capsys.readouterr().out
    assert "Traceback" not in out
    lines = {}
    for line in out.splitlines():
        if line.startswith("- **"):
            label, _, rest = line[4:].partition("**: ")
            lines[label] = rest
    return lines


def test_api_key(shell: Any, no_credentials: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key-shown-nowhere-0123456789")
    lines = auth(shell, capsys)
    assert lines["API engine"].startswith("API key from ANTHROPIC_API_KEY")
    assert "Requests go to https://api.anthropic.com." in lines["API engine"]
    assert lines["Engine"] == "`auto` picks **api**."
    assert "Claude Code engine" in lines and "To set up" not in lines
    assert "key-shown-nowhere-0123456789" not in str(lines)


def test_auth_token_and_gateway(shell: Any, no_credentials: Path, claude_server: LocalServer, capsys: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "gateway-token-shown-nowhere-42")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    lines = auth(shell, capsys)
    assert lines["API engine"] == (f"bearer token from ANTHROPIC_AUTH_TOKEN. Requests go to {claude_server.base_url}.")
    assert "gateway-token-shown-nowhere-42" not in str(lines)


def test_explicit_profile(shell: Any, oauth_profile: tuple[Profiles, IssuedTokens], claude_server: LocalServer,
                          capsys: Any) -> None:
    profiles, tokens = oauth_profile
    lines = auth(shell, capsys)
    api = lines["API engine"]
    assert api.startswith("profile work (user_oauth); chosen by ANTHROPIC_PROFILE")
    assert str(profiles.root / "configs" / "work.json") in api
    assert "the SDK refreshes its access token" in api and f"Requests go to {claude_server.base_url}." in api
    assert lines["Engine"] == "`auto` picks **api**."
    assert tokens.access_token not in str(lines) and tokens.refresh_token not in str(lines)
    assert claude_server.requests == []     # describing it sent nothing, refreshed nothing


def test_active_profile_on_disk(shell: Any, profiles: Profiles, claude_server: LocalServer, capsys: Any) -> None:
    profiles.write("team", claude_server.oauth.issue(CLIENT_ID), base_url=claude_server.base_url, client_id=None)
    profiles.activate("team")
    api = auth(shell, capsys)["API engine"]
    assert api.startswith("profile team (user_oauth); the active profile (active_config)")
    assert "re-read on every request" in api


def test_federation(shell: Any, no_credentials: Path, tmp_path: Path, capsys: Any,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    jwt = tmp_path / "token.jwt"
    jwt.write_text("eyJhbGciOiJub25lIn0.e30.", encoding="utf-8")
    for name, value in (("ANTHROPIC_FEDERATION_RULE_ID", "fdrl_1"), ("ANTHROPIC_ORGANIZATION_ID", "org_1"),
                        ("ANTHROPIC_IDENTITY_TOKEN_FILE", str(jwt))):
        monkeypatch.setenv(name, value)
    api = auth(shell, capsys)["API engine"]
    assert api.startswith("workload identity federation (ANTHROPIC_FEDERATION_RULE_ID); the SDK exchanges")


def test_nothing_resolves(shell: Any, no_credentials: Path, capsys: Any) -> None:
    lines = auth(shell, capsys)
    assert lines["API engine"].startswith("no credential found")
    assert lines["Claude Code engine"] == "not logged in (`claude auth login` in a terminal)."
    assert lines["Engine"] == "`auto` finds no credential and no Claude Code login."
    assert 'pip install "claude-magic[claude-code]"' in lines["To set up"]
    assert "ANTHROPIC_API_KEY" in lines["To set up"] and "claude auth login" in lines["To set up"]


def test_a_broken_profile_is_described_not_raised(shell: Any, profiles: Profiles, capsys: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_PROFILE", "nowhere")
    lines = auth(shell, capsys)
    assert lines["API engine"].startswith("cannot be used — The Anthropic credential configuration cannot be used")
    assert "nowhere" in lines["API engine"] and "To set up" in lines


def test_header_names_are_listed_without_values(shell: Any, no_credentials: Path, capsys: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "x-team: value-from-the-env-123")
    shell.magics_manager.registry["ClaudeMagic"].headers = {"x-api-key": "gateway-key-in-a-header-456"}
    lines = auth(shell, capsys)
    assert lines["API engine"].startswith("API key from ClaudeMagic.headers['x-api-key']")
    assert lines["Extra headers"] == "`x-api-key`, `x-team` (ANTHROPIC_CUSTOM_HEADERS) (values hidden)"
    assert "value-from-the-env-123" not in str(lines) and "gateway-key-in-a-header-456" not in str(lines)


def test_arguments_are_refused_in_one_line(shell: Any, no_credentials: Path, capsys: Any) -> None:
    assert not run(shell, "%claude auth --verbose").success
    out = capsys.readouterr()
    assert "usage: %claude auth" in out.out + out.err and "Traceback" not in out.out + out.err
