"""`resolve_api_credential` names the source the SDK's own chain uses, and `ClientFactory` builds on that chain."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anthropic
import pytest
from anthropic.lib.credentials import WorkloadIdentityCredentials

from claude_magic.core.errors import ConfigurationError, MissingCredentialError
from claude_magic.core.settings import Settings
from claude_magic.testing import LocalServer, Reply, text
from claude_magic.transport.client import ClientFactory, resolved_base_url
from claude_magic.transport.credentials import CredentialInfo, resolve_api_credential

from .conftest import CLIENT_ID, Profiles, bearer_tokens

MODEL = "claude-sonnet-5-5"


def ask(client: anthropic.Anthropic) -> str:
    message = client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    return message.content[0].text


def sdk_sends(server: LocalServer, settings: Settings) -> dict[str, str]:
    """The auth headers a plain `anthropic.Anthropic()` (no arguments: its own chain) sends to `server`."""
    client = anthropic.Anthropic(base_url=settings.base_url, max_retries=0)
    server.queue(Reply(text("plain SDK")))
    ask(client)
    client.close()
    headers = server.requests[-1].headers
    return {name: headers[name] for name in ("authorization", "x-api-key") if name in headers}


def test_api_key(no_credentials: Path, claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key-from-the-environment-123")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-shadowed-by-the-key-456")
    info = resolve_api_credential(Settings(base_url=claude_server.base_url))
    assert info == CredentialInfo("api_key", "ANTHROPIC_API_KEY")
    assert info.label == "API key from ANTHROPIC_API_KEY"
    assert "key-from-the-environment-123" in json.dumps(sdk_sends(claude_server, Settings(base_url=claude_server.base_url)))


def test_auth_token(no_credentials: Path, claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "gateway-token-789012")
    info = resolve_api_credential(Settings())
    assert info is not None and (info.kind, info.source) == ("auth_token", "ANTHROPIC_AUTH_TOKEN")
    assert info.label == "bearer token from ANTHROPIC_AUTH_TOKEN"


def test_an_empty_variable_counts_as_unset(no_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "set-and-used-345678")
    info = resolve_api_credential(Settings())
    assert info is not None and info.source == "ANTHROPIC_AUTH_TOKEN"


def test_explicit_profile(oauth_profile: tuple[Profiles, object], claude_server: LocalServer) -> None:
    profiles, _tokens = oauth_profile
    info = resolve_api_credential(Settings())
    assert info is not None
    assert (info.kind, info.source, info.detail, info.selected_by) == ("profile", "profile 'work'", "user_oauth",
                                                                      "ANTHROPIC_PROFILE")
    assert info.label == "profile work (user_oauth)"
    assert info.refreshed and info.base_url == claude_server.base_url
    assert info.config_path == str(profiles.root / "configs" / "work.json")
    assert resolved_base_url(Settings()) == claude_server.base_url           # the profile pins the host
    plain = anthropic.Anthropic()                                            # the SDK agrees on both
    assert plain.credentials.profile == "work" and str(plain.base_url).rstrip("/") == claude_server.base_url


def test_active_profile_on_disk(profiles: Profiles, claude_server: LocalServer) -> None:
    profiles.write("default", claude_server.oauth.issue(CLIENT_ID), base_url=claude_server.base_url)
    profiles.write("team", claude_server.oauth.issue(CLIENT_ID), base_url=claude_server.base_url, client_id=None)
    info = resolve_api_credential(Settings())
    assert info is not None and (info.source, info.selected_by) == ("profile 'default'", "default")
    profiles.activate("team")
    info = resolve_api_credential(Settings())
    assert info is not None and (info.source, info.selected_by) == ("profile 'team'", "active_config")
    assert anthropic.Anthropic().credentials.profile == "team"
    assert not info.refreshed                        # no client_id: the file is rotated by something else


def test_federation_variables(no_credentials: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                              profiles: Profiles, claude_server: LocalServer) -> None:
    """Federation sits above the active profile on disk (a leftover profile does not win), below ANTHROPIC_PROFILE."""
    profiles.write("default", claude_server.oauth.issue(CLIENT_ID), base_url=claude_server.base_url)
    jwt = tmp_path / "identity.jwt"
    jwt.write_text("eyJhbGciOiJub25lIn0.e30.", encoding="utf-8")
    monkeypatch.setenv("ANTHROPIC_FEDERATION_RULE_ID", "fdrl_local")
    monkeypatch.setenv("ANTHROPIC_ORGANIZATION_ID", "org_local")
    monkeypatch.setenv("ANTHROPIC_IDENTITY_TOKEN_FILE", str(jwt))
    before = len(claude_server.requests)
    info = resolve_api_credential(Settings())
    assert info is not None and (info.kind, info.source) == ("federation", "ANTHROPIC_FEDERATION_RULE_ID")
    assert info.label == "workload identity federation (ANTHROPIC_FEDERATION_RULE_ID)"
    assert len(claude_server.requests) == before                  # resolving exchanged nothing
    assert isinstance(anthropic.Anthropic().credentials, WorkloadIdentityCredentials)
    monkeypatch.setenv("ANTHROPIC_PROFILE", "default")
    info = resolve_api_credential(Settings())
    assert info is not None and info.kind == "profile"


def test_nothing(no_credentials: Path) -> None:
    assert resolve_api_credential(Settings()) is None
    assert anthropic.Anthropic().credentials is None
    with pytest.raises(MissingCredentialError) as raised:
        ClientFactory().get(Settings())
    message = str(raised.value)
    assert "\n" not in message
    assert "ANTHROPIC_API_KEY" in message and "ANTHROPIC_PROFILE" in message
    assert 'pip install "claude-magic[claude-code]"' in message and "claude auth login" in message


def test_a_header_that_is_a_credential_is_enough(no_credentials: Path, claude_server: LocalServer) -> None:
    settings = Settings(base_url=claude_server.base_url, max_retries=0, extra_headers={"x-api-key": "gw-key-901234"})
    info = resolve_api_credential(settings)
    assert info is not None and (info.kind, info.source) == ("api_key", "ClaudeMagic.headers['x-api-key']")
    claude_server.queue(Reply(text("through the header")))
    assert ask(ClientFactory().get(settings)) == "through the header"
    assert claude_server.requests[-1].headers["x-api-key"] == "gw-key-901234"


def test_a_broken_explicit_profile_is_one_line(profiles: Profiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_PROFILE", "missing")
    with pytest.raises(ConfigurationError) as raised:
        resolve_api_credential(Settings())
    message = str(raised.value)
    assert "\n" not in message and "missing" in message and "%claude auth" in message
    with pytest.raises(ConfigurationError):
        ClientFactory().get(Settings())


def test_a_profile_over_cleartext_http_is_refused_like_the_sdk_does(profiles: Profiles,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    profiles.write("remote", None, base_url="http://gateway.example:8080")
    monkeypatch.setenv("ANTHROPIC_PROFILE", "remote")
    with pytest.raises(anthropic.AnthropicError):
        anthropic.Anthropic()
    with pytest.raises(ConfigurationError) as raised:
        ClientFactory().get(Settings())
    assert "https" in str(raised.value) and "\n" not in str(raised.value)


def test_client_is_reused_until_the_credential_source_changes(oauth_profile: tuple[Profiles, object],
                                                              claude_server: LocalServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    profiles, _tokens = oauth_profile
    factory, settings = ClientFactory(), Settings(max_retries=0)
    client = factory.get(settings)
    claude_server.queue(Reply(text("one")), Reply(text("two")))
    assert ask(client) == "one"
    assert profiles.credentials("work")["access_token"] != _tokens.access_token    # the SDK refreshed and wrote it
    assert factory.get(settings) is client and ask(factory.get(settings)) == "two"  # a refresh is no new source
    assert factory.built == 1
    assert repr(factory) == "<ClientFactory 1 client>"

    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "now-a-static-token-567890")    # a new source: a new client
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)           # (a static token uses no profile host)
    claude_server.require_api_key = "now-a-static-token-567890"
    rebuilt = factory.get(settings)
    assert rebuilt is not client and factory.built == 2
    claude_server.queue(Reply(text("three")))
    assert ask(rebuilt) == "three" and bearer_tokens(claude_server)[-1] == "now-a-static-token-567890"

    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN")                                   # back to the profile
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    assert factory.get(settings) is client and factory.built == 2
    config = profiles.root / "configs" / "work.json"
    data = json.loads(config.read_text())
    data["workspace_id"] = "wrkspc_local"
    config.write_text(json.dumps(data))                                          # the profile itself changed
    os.utime(config, ns=(os.stat(config).st_atime_ns, os.stat(config).st_mtime_ns + 1_000_000_000))
    edited = factory.get(settings)
    assert edited is not client and factory.built == 3
    claude_server.queue(Reply(text("four")))
    assert ask(edited) == "four"
    assert claude_server.requests[-1].headers["anthropic-workspace-id"] == "wrkspc_local"


def test_other_settings_share_nothing_secret_in_the_key(no_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key-that-must-not-be-in-the-cache-key")
    factory = ClientFactory()
    settings = Settings(extra_headers={"x-secret-header": "header-value-not-in-the-key"})
    factory.get(settings)
    keys = repr(list(factory._clients))
    assert "key-that-must-not-be-in-the-cache-key" not in keys and "header-value-not-in-the-key" not in keys
    from claude_magic.core.redaction import redact

    assert redact("echo header-value-not-in-the-key") == "echo [redacted]"   # Settings from code: secret too
    assert factory.get(settings.with_options(max_retries=5)) is not factory.get(settings)
