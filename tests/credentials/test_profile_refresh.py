"""A `user_oauth` profile in a real IPython shell: the SDK refreshes its token, claude-magic only uses the client."""

from __future__ import annotations

import os
import stat
import time
from typing import Any

import claude_magic
from claude_magic.testing import LocalServer, Reply, text
from claude_magic.testing.oauth import IssuedTokens

from .conftest import CLIENT_ID, Profiles, bearer_tokens, refresh_requests, run


def one_line_error(shown: str, expected: str) -> str:
    """The single line of `shown` carrying `expected`; no traceback anywhere."""
    assert "Traceback" not in shown and "site-packages" not in shown, shown
    lines = [line for line in shown.splitlines() if expected in line]
    assert len(lines) == 1, shown
    return lines[0]


def test_an_expired_token_is_refreshed_and_the_turn_succeeds(shell: Any, claude_server: LocalServer,
                                                           oauth_profile: tuple[Profiles, IssuedTokens]) -> None:
    profiles, old = oauth_profile
    claude_server.queue(Reply(text("Answered with a fresh token.")), Reply(text("Still the same token.")))
    assert run(shell, "%%claude\nhello").success
    assert claude_magic.get_session().last.text == "Answered with a fresh token."

    [refresh] = refresh_requests(claude_server)                      # the SDK asked the token endpoint once
    assert refresh.body == {"grant_type": "refresh_token", "refresh_token": old.refresh_token, "client_id": CLIENT_ID}
    assert "oauth-2025-04-20" in refresh.headers["anthropic-beta"]
    written = profiles.credentials("work")                           # ... and wrote the new pair back, 0600
    assert written["access_token"] != old.access_token and written["refresh_token"] != old.refresh_token
    assert written["expires_at"] > time.time() + 3000
    assert stat.S_IMODE(os.stat(profiles.root / "credentials" / "work.json").st_mode) == 0o600
    messages = [request for request in claude_server.requests if request.is_message]
    assert bearer_tokens(claude_server) == [written["access_token"]]  # the new bearer, never the expired one
    assert "oauth-2025-04-20" in messages[0].headers["anthropic-beta"]
    assert claude_server.requests.index(refresh) < claude_server.requests.index(messages[0])

    assert run(shell, "%%claude\nagain").success                    # a valid token: no second refresh
    assert len(refresh_requests(claude_server)) == 1
    assert bearer_tokens(claude_server) == [written["access_token"]] * 2
    assert len(claude_magic.get_session().conversation()) == 2


def test_a_refused_refresh_is_one_line_and_the_next_turn_works(shell: Any, claude_server: LocalServer, capsys: Any,
                                                               oauth_profile: tuple[Profiles, IssuedTokens]) -> None:
    profiles, old = oauth_profile
    claude_server.oauth.fail_next_refresh(400, "invalid_grant", "Refresh token has been revoked")
    result = run(shell, "%%claude\nhello")
    assert not result.success
    out = capsys.readouterr()
    line = one_line_error(out.out + out.err, "Could not get an access token")
    assert "invalid_grant" in line and "%claude auth" in line
    assert old.refresh_token not in out.out + out.err and old.access_token not in out.out + out.err
    assert not [request for request in claude_server.requests if request.is_message]   # nothing was sent
    assert profiles.credentials("work")["refresh_token"] == old.refresh_token          # the file is untouched
    session = claude_magic.get_session()
    assert len(session.conversation()) == 0 and session.conversation().messages == []

    claude_server.queue(Reply(text("Back again.")))
    assert run(shell, "%%claude\nhello again").success            # the refresh works now: the turn too
    assert session.last.text == "Back again."
    assert claude_server.rejections == []


def test_a_token_endpoint_that_is_down_is_one_line(shell: Any, claude_server: LocalServer, capsys: Any,
                                                   oauth_profile: tuple[Profiles, IssuedTokens]) -> None:
    claude_server.oauth.fail_next_refresh(503, "temporarily_unavailable", "The token service is restarting")
    assert not run(shell, "%%claude\nhello").success
    out = capsys.readouterr()
    assert "temporarily_unavailable" in one_line_error(out.out + out.err, "Could not get an access token")


def test_a_revoked_token_is_refreshed_by_the_sdk_after_a_401(shell: Any, claude_server: LocalServer,
                                                            oauth_profile: tuple[Profiles, IssuedTokens]) -> None:
    """The SDK drops a token the API rejects and retries once with a new one (it needs a retry left)."""
    profiles, _old = oauth_profile
    shell.magics_manager.registry["ClaudeMagic"].max_retries = 1
    claude_server.queue(Reply(text("First.")), Reply(text("After the 401.")))
    assert run(shell, "%%claude\nfirst").success
    first = profiles.credentials("work")["access_token"]
    claude_server.oauth.revoke(first)                           # e.g. a logout on another machine
    assert run(shell, "%%claude\nsecond").success
    assert claude_magic.get_session().last.text == "After the 401."
    second = profiles.credentials("work")["access_token"]
    assert second != first and len(refresh_requests(claude_server)) == 2
    assert bearer_tokens(claude_server) == [first, first, second]  # rejected once, then the refreshed one
    assert len(claude_magic.get_session().conversation()) == 2


def test_a_profile_switch_between_cells_uses_the_other_profile(shell: Any, claude_server: LocalServer,
                                                               oauth_profile: tuple[Profiles, IssuedTokens],
                                                               monkeypatch: Any) -> None:
    """`%env ANTHROPIC_PROFILE=...` between cells: the next turn builds a client for the new profile."""
    profiles, _old = oauth_profile
    other = claude_server.oauth.issue(CLIENT_ID)
    profiles.write("personal", other, base_url=claude_server.base_url)
    claude_server.queue(Reply(text("work")), Reply(text("personal")), Reply(text("personal again")))
    assert run(shell, "%%claude\nas work").success
    assert run(shell, "%env ANTHROPIC_PROFILE=personal").success
    assert run(shell, "%%claude\nas personal").success
    assert run(shell, "%%claude\nstill personal").success
    assert bearer_tokens(claude_server)[1:] == [other.access_token] * 2
    assert claude_magic.get_session().clients.built == 2            # one client per profile, not one per turn
    assert profiles.credentials("personal")["access_token"] == other.access_token       # valid: not refreshed


def test_a_refused_refresh_during_the_context_window_check_is_one_line(
        shell: Any, claude_server: LocalServer, capsys: Any, oauth_profile: tuple[Profiles, IssuedTokens]) -> None:
    """A long prompt is checked against the model's window first (`models.retrieve`): that request needs the
    token too, and a refused refresh there is the same one line, not a traceback."""
    profiles, old = oauth_profile
    claude_server.oauth.fail_next_refresh(400, "invalid_grant", "Refresh token has been revoked")
    long_prompt = "Summarise these words: " + " ".join(f"w{number}" for number in range(20_000))
    result = run(shell, "%%claude\n" + long_prompt)
    assert not result.success
    out = capsys.readouterr()
    line = one_line_error(out.out + out.err, "Could not get an access token")
    assert "invalid_grant" in line and old.refresh_token not in out.out + out.err
    assert [request.path for request in claude_server.requests] == ["/v1/oauth/token"]   # nothing else was sent
    session = claude_magic.get_session()
    assert session.conversation().messages == [] and session.last.status == "error"

    claude_server.queue(Reply(text("Summarised.")))
    assert run(shell, "%%claude\n" + long_prompt).success          # the refresh works now: the check and the turn
    assert session.last.text == "Summarised." and len(session.conversation()) == 1
    assert [request.path.split("?")[0] for request in claude_server.requests][-1] == "/v1/messages"
    assert claude_server.rejections == []
