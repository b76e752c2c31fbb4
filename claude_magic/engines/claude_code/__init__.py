"""The Claude Code engine: turns answered through the Claude Agent SDK and its bundled CLI."""

from __future__ import annotations

from .auth import LoginStatus, login_status

__all__ = ["LoginStatus", "login_status"]
