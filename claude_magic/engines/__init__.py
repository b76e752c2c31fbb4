"""Engines that answer turns behind one seam: the Messages API (`messages_api`, its agent loop `api_loop`) and
Claude Code (`claude_code`)."""

from __future__ import annotations

from .base import Engine, Toolbox, TurnRequest

__all__ = ["Engine", "TurnRequest", "Toolbox"]
