"""Engine choice (`auto` picks each engine, or says how to set one up) and the faults before a turn starts."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest

from claude_magic.core.errors import MissingCredentialError
from claude_magic.engines.selection import choose_engine, forget_login_status
from claude_magic.session import Session

from .conftest import cc_settings, helper_home


def test_auto_picks_the_api_engine_when_a_key_resolves(cc_server: Any, cc_home: str) -> None:
    assert choose_engine(cc_settings(cc_server, cc_home, engine="auto")) == "api"   # the suite's canary key


def test_auto_picks_claude_code_when_only_its_login_exists(cc_server: Any, script: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    forget_login_status()
    settings = cc_settings(cc_server, helper_home(cc_server), engine="auto")
    settings = settings.with_options(claude_code_env={"HOME": settings.claude_code_env["HOME"]})
    assert choose_engine(settings) == "claude-code"
    session = Session(settings)
    try:
        result = session.ask("Who answers?")
        assert result.status == "complete", result.error
        assert result.engine == "claude-code" and "api_key_helper" in result.credential
    finally:
        session.close()


def test_auto_with_neither_names_both_ways(cc_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    forget_login_status()
    settings = cc_settings(cc_server, tempfile.mkdtemp(), engine="auto")
    settings = settings.with_options(claude_code_env={"HOME": settings.claude_code_env["HOME"]})
    with pytest.raises(MissingCredentialError) as raised:
        Session(settings).ask("Hello?")
    assert "ANTHROPIC_API_KEY" in str(raised.value) and "Claude Code" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_cli_missing_is_one_line(cc_server: Any, cc_home: str) -> None:
    session = Session(cc_settings(cc_server, cc_home, claude_code_cli="/nonexistent/claude"))
    try:
        result = session.ask("Hello?")
        assert result.status == "error"
        assert "Claude Code CLI was not found at /nonexistent/claude" in result.error
        assert session.conversation("").turns == [] and session.conversation("").messages == []
    finally:
        session.close()


def test_not_logged_in_is_one_line(cc_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    settings = cc_settings(cc_server, tempfile.mkdtemp())
    settings = settings.with_options(claude_code_env={"HOME": settings.claude_code_env["HOME"],
                                                      "ANTHROPIC_BASE_URL": cc_server.base_url})
    session = Session(settings)
    try:
        result = session.ask("Hello?")
        assert result.status == "error"
        assert "Claude Code is not logged in" in result.error and "/login" in result.error, result.error
        assert session.conversation("").messages == []
    finally:
        session.close()
