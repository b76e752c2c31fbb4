"""Replaying recorded turns: the request fingerprint, which recorded turn a re-run cell replaces, the recordings.

A cell whose request (prompt after interpolation, attachments, settings, the conversation before it) hashes
to its recorded turn's `request_hash` is replayed by `claude_magic.engines.replay.ReplayEngine`: no request,
the same events, its tool calls run again locally.
"""

from __future__ import annotations

from .fingerprint import request_fingerprint
from .planner import Plan, ReplayPlanner
from .recording import RecordedTurn

__all__ = ["request_fingerprint", "Plan", "ReplayPlanner", "RecordedTurn"]
