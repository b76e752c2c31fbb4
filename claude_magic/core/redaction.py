"""Keeping credentials out of every text the extension produces.

The secrets: the API credentials in the environment, `ANTHROPIC_CUSTOM_HEADERS` values, values registered
by the configuration (`ClaudeMagic.headers`, `claude_code_env`, MCP `env`/`headers`: any length), the values
of environment variables whose names look secret (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`: 6+
characters), and anything shaped like an Anthropic key. `redact` scrubs a whole text; `StreamScrubber`
scrubs a text that arrives in fragments (a secret split across two fragments is still caught).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["BlockScrubbers", "CREDENTIAL_VARIABLES", "Scrubber", "StreamScrubber", "redact", "redact_content", "register_secret",
           "register_secrets", "scrubber"]

# Environment variables whose values are secrets (ANTHROPIC_IDENTITY_TOKEN: a federation JWT given literally).
CREDENTIAL_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_IDENTITY_TOKEN")
CUSTOM_HEADERS_VARIABLE = "ANTHROPIC_CUSTOM_HEADERS"   # "Name: value" lines the SDK adds to every request
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8        # shorter secrets are replaced only as whole words ("abc" in "abcdef" stays)
MIN_ENVIRONMENT_SECRET_LENGTH = 6   # a secret-named variable's value shorter than this ("1", "true") is no secret
# Names of environment variables whose values are treated as secrets.
_SECRET_VARIABLE_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
# Configured values that are settings, not secrets: a short number, a switch.
_NOT_SECRET = re.compile(r"\d{1,7}|true|false|yes|no|on|off|none|null", re.IGNORECASE)
# Anything shaped like an Anthropic key or OAuth token (sk-ant-api03-, -admin01-, -oat01-, -ort01-), whole or cut short.
_KEY_PREFIX = "sk-ant-"
_KEY_SHAPE = r"sk-ant-[A-Za-z0-9][A-Za-z0-9_-]{19,}"
_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Treat `value` (a header value, an MCP server's token) as a secret for the rest of the process."""
    register_secrets([value])


def register_secrets(values: Iterable[str]) -> None:
    """Treat each of `values` as a secret, whatever its length; "Bearer TOKEN" registers the token alone too."""
    fresh: set[str] = set()
    for value in values:
        if isinstance(value, str):
            parts = value.split()
            fresh.update(part for part in (value.strip(), parts[-1] if len(parts) > 1 else "")
                         if part and not _NOT_SECRET.fullmatch(part))
    with _registered_lock:
        _registered.update(fresh)


def _custom_header_values() -> Iterator[str]:
    """The values in ANTHROPIC_CUSTOM_HEADERS, split the way the SDK splits them."""
    for line in (os.environ.get(CUSTOM_HEADERS_VARIABLE) or "").split("\n"):
        colon = line.find(":")
        if colon >= 0:
            yield line[colon + 1:].strip()


def _environment_secrets() -> Iterator[str]:
    """Values of environment variables whose names look secret, read now (the environment may change)."""
    for name, value in os.environ.items():
        if len(value) >= MIN_ENVIRONMENT_SECRET_LENGTH and _SECRET_VARIABLE_NAME.search(name):
            yield value


def _secrets(extra: Iterable[str] = ()) -> frozenset[str]:
    """Every secret value known now (and `extra`)."""
    with _registered_lock:
        values = set(_registered)
    values.update(value for value in extra if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH)
    values.update(os.environ.get(variable) or "" for variable in CREDENTIAL_VARIABLES)
    values.update(value for value in _custom_header_values() if len(value) >= MIN_SECRET_LENGTH)
    values.update(_environment_secrets())
    values.discard("")
    return frozenset(values)


class Scrubber:
    """A fixed set of secrets, ready to scrub texts: long ones as substrings, short ones as whole words."""

    def __init__(self, secrets: frozenset[str]) -> None:
        ordered = sorted(secrets, key=len, reverse=True)      # a secret containing another goes whole
        self.long = tuple(secret for secret in ordered if len(secret) >= MIN_SECRET_LENGTH)
        self.short = tuple(secret for secret in ordered if len(secret) < MIN_SECRET_LENGTH)
        words = "|".join(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])" for secret in self.short)
        self._short_pattern = re.compile(words) if words else None
        self._key_pattern = re.compile(_KEY_SHAPE)
        self.prefixes = (*ordered, _KEY_PREFIX)               # what a held-back tail may be the start of
        # The quick test for a fragment: no secret can start in it unless it holds a secret's first two characters
        # (rare in prose: "sk", not "s") or ends with a secret's first character.
        pairs = "|".join(sorted({re.escape(secret[:2]) for secret in self.prefixes}))
        firsts = "".join(sorted({re.escape(secret[0]) for secret in self.prefixes}))
        self.may_start = re.compile(f"{pairs}|[{firsts}]\\Z").search

    def __call__(self, text: str) -> str:
        """`text` with every secret (and key-shaped string) replaced by "[redacted]"."""
        for secret in self.long:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if self._short_pattern is not None:
            text = self._short_pattern.sub(REDACTED, text)
        if _KEY_PREFIX in text:
            text = self._key_pattern.sub(REDACTED, text)
        return text

    def unsafe_tail(self, text: str) -> int:
        """Where the end of `text` that may be the start of a secret begins (len(text) when none may be):
        a proper beginning of a secret, a whole short secret (a word character may follow), an open key."""
        end = len(text)
        start = end
        for secret in self.prefixes:
            first = secret[0]
            position = text.find(first, max(0, end - len(secret)))
            while position != -1 and position < start:
                tail = text[position:]
                if secret.startswith(tail) and (len(tail) < len(secret) or secret in self.short):
                    start = position
                    break
                position = text.find(first, position + 1)
        key = text.rfind(_KEY_PREFIX)
        if key != -1 and key < start and _KEY_CHARACTERS.issuperset(text[key + len(_KEY_PREFIX):]):
            start = key
        return start


@functools.lru_cache(maxsize=16)
def _scrubber_for(secrets: frozenset[str]) -> Scrubber:
    return Scrubber(secrets)


def scrubber(extra: Iterable[str] = ()) -> Scrubber:
    """A `Scrubber` for the secrets known now (and `extra`)."""
    return _scrubber_for(_secrets(extra))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Replace the configured secrets, `extra` ones, and anything shaped like an Anthropic key or token."""
    return scrubber(extra)(text)


def redact_content(content: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Message content (a string or content blocks) with credentials replaced in every text block."""
    if isinstance(content, str):
        return redact(content)
    scrub = scrubber()
    return [{**block, "text": scrub(block["text"])} if block.get("type") == "text"
            and isinstance(block.get("text"), str) else block for block in content]


class StreamScrubber:
    """Scrubs one text as it arrives in fragments: the end that may be the start of a secret is held back
    until the next fragment (or `flush`) shows whether it is one."""

    __slots__ = ("scrub", "held", "before", "_may_start")

    def __init__(self, scrub: Scrubber) -> None:
        self.scrub = scrub
        self._may_start = scrub.may_start
        self.held = ""            # text received but not passed on yet
        self.before = ""          # the last character passed on (a short secret must start a word)

    def feed(self, fragment: str) -> str:
        """The scrubbed text that can be shown now."""
        if not self.held and not self._may_start(fragment):
            if fragment:
                self.before = fragment[-1]
            return fragment                                   # the hot path: nothing here can be a secret
        text = self.held + fragment if self.held else fragment
        cut = self.scrub.unsafe_tail(text)
        self.held = text[cut:]
        if not cut:
            return ""
        return self._pass(text[:cut])

    def flush(self) -> str:
        """Everything still held back, scrubbed (the text ended)."""
        text, self.held = self.held, ""
        return self._pass(text) if text else ""

    def _pass(self, text: str) -> str:
        shown = self.scrub(self.before + text)[len(self.before):] if self.before else self.scrub(text)
        self.before = text[-1]
        return shown


class BlockScrubbers:
    """One `StreamScrubber` per content block of a streamed message, by the block's index."""

    __slots__ = ("scrub", "_streams")

    def __init__(self, scrub: Scrubber) -> None:
        self.scrub = scrub
        self._streams: dict[int, StreamScrubber] = {}

    def of(self, index: int) -> StreamScrubber:
        """Block `index`'s scrubber (made at its first fragment)."""
        stream = self._streams.get(index)
        if stream is None:
            stream = self._streams[index] = StreamScrubber(self.scrub)
        return stream

    def rest(self, index: int) -> str:
        """What block `index`'s scrubber still holds back, scrubbed; the block is done ("" if nothing)."""
        stream = self._streams.pop(index, None)
        return stream.flush() if stream is not None else ""

    def open(self) -> list[int]:
        """The blocks whose scrubbers may still hold text back."""
        return list(self._streams)
