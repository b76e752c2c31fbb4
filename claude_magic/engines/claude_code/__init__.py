"""The Claude Code engine: turns answered through the Claude Agent SDK and its bundled CLI."""

from __future__ import annotations

from .auth import LoginStatus, login_status
from .engine import ClaudeCodeEngine

__all__ = ["ClaudeCodeEngine", "LoginStatus", "login_status"]
