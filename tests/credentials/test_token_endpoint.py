"""The local server's `POST /v1/oauth/token` and how its API routes treat the bearer tokens it issued."""

from __future__ import annotations

from typing import Any

import httpx2

from claude_magic.testing import LocalServer

from .conftest import CLIENT_ID

BETA = {"anthropic-beta": "oauth-2025-04-20"}


def grant(server: LocalServer, **body: Any) -> httpx2.Response:
    return httpx2.post(f"{server.base_url}/v1/oauth/token", json={"grant_type": "refresh_token", **body})


def ask(server: LocalServer, token: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.post(f"{server.base_url}/v1/messages/count_tokens",
                       headers={"authorization": f"Bearer {token}", **(headers if headers is not None else BETA)},
                       json={"model": "claude-sonnet-5-5", "messages": [{"role": "user", "content": "hi"}]})


def test_a_refresh_rotates_the_pair(claude_server: LocalServer) -> None:
    first = claude_server.oauth.issue(CLIENT_ID)
    answer = grant(claude_server, refresh_token=first.refresh_token, client_id=CLIENT_ID)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["refresh_token"] != first.refresh_token and body["access_token"].startswith("sk-ant-oat01-")
    again = grant(claude_server, refresh_token=first.refresh_token, client_id=CLIENT_ID)   # used once already
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert claude_server.oauth.refreshes == 1
    assert ask(claude_server, body["access_token"]).status_code == 200


def test_a_form_body_works_too(claude_server: LocalServer) -> None:
    tokens = claude_server.oauth.issue(CLIENT_ID)
    answer = httpx2.post(f"{claude_server.base_url}/v1/oauth/token",
                         data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                               "client_id": CLIENT_ID})
    assert answer.status_code == 200 and answer.json()["access_token"]


def test_refusals_follow_rfc_6749(claude_server: LocalServer) -> None:
    tokens = claude_server.oauth.issue(CLIENT_ID)
    cases = [
        (grant(claude_server, refresh_token=tokens.refresh_token, client_id="another-app"), "invalid_grant"),
        (grant(claude_server, refresh_token="never-issued", client_id=CLIENT_ID), "invalid_grant"),
        (grant(claude_server, refresh_token=tokens.refresh_token), "invalid_request"),
        (httpx2.post(f"{claude_server.base_url}/v1/oauth/token",
                     json={"grant_type": "client_credentials"}), "unsupported_grant_type"),
        (httpx2.post(f"{claude_server.base_url}/v1/oauth/token", content=b"{not json"), "invalid_request"),
    ]
    for answer, error in cases:
        assert answer.status_code == 400 and answer.json()["error"] == error, answer.text
        assert set(answer.json()) == {"error", "error_description"}


def test_scripted_failures_come_first_then_the_grant_works(claude_server: LocalServer) -> None:
    tokens = claude_server.oauth.issue(CLIENT_ID)
    claude_server.oauth.fail_next_refresh()
    claude_server.oauth.fail_next_refresh(503, "temporarily_unavailable", "try later")
    assert grant(claude_server, refresh_token=tokens.refresh_token, client_id=CLIENT_ID).json() == {
        "error": "invalid_grant", "error_description": "Refresh token has been revoked"}
    answer = grant(claude_server, refresh_token=tokens.refresh_token, client_id=CLIENT_ID)
    assert answer.status_code == 503
    assert grant(claude_server, refresh_token=tokens.refresh_token, client_id=CLIENT_ID).status_code == 200


def test_issued_bearer_tokens_on_the_api(claude_server: LocalServer) -> None:
    claude_server.require_api_key = "only-this-key"
    good = claude_server.oauth.issue(CLIENT_ID)
    expired = claude_server.oauth.issue(CLIENT_ID, expires_in=-1)
    assert ask(claude_server, good.access_token).status_code == 200            # accepted despite require_api_key
    assert "OAuth authentication is currently not supported" in ask(claude_server, good.access_token, {}).text
    assert "expired" in ask(claude_server, expired.access_token).json()["error"]["message"]
    claude_server.oauth.revoke(good.access_token)
    assert ask(claude_server, good.access_token).status_code == 401
    assert ask(claude_server, "not-issued-and-not-the-key").status_code == 401
    claude_server.clear()
    assert not claude_server.oauth.recognizes(expired.access_token)
