"""Signatures of thinking blocks: the server signs what it sends and checks what comes back.

A signature is the base64 of HMAC-SHA256(secret, thinking text). The secret is fixed, so every local
server (and `sign_thinking`) agrees, and a history built by hand can carry valid signatures. Signatures
the server sent verbatim (a `thinking(..., signature=...)` or a replayed recording) are accepted too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading

__all__ = ["SECRET", "Signer", "sign_thinking"]

SECRET = b"claude-magic local test server"


def sign_thinking(thinking: str, secret: bytes = SECRET) -> str:
    """The signature the local server gives a thinking block with this text."""
    digest = hmac.new(secret, thinking.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Signer:
    """Signs thinking text and remembers signatures issued verbatim; thread-safe."""

    def __init__(self, secret: bytes = SECRET) -> None:
        self.secret = secret
        self._issued: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def sign(self, thinking: str) -> str:
        """The computed signature for `thinking`."""
        return sign_thinking(thinking, self.secret)

    def issue(self, thinking: str, signature: str) -> None:
        """Remember a signature sent as given, so that it is accepted when it comes back."""
        with self._lock:
            self._issued.add((thinking, signature))

    def verify(self, thinking: str, signature: object) -> bool:
        """Whether `signature` is the one this server gave `thinking`."""
        if not isinstance(signature, str) or not signature:
            return False
        if hmac.compare_digest(signature, self.sign(thinking)):
            return True
        with self._lock:
            return (thinking, signature) in self._issued
