"""Replaying recorded turns, the whole feature: the request fingerprint (`fingerprint`), which recorded turn a
re-run cell replaces (`planner`), the recordings (`recording`), the replay engine (`engine`) and the session's
turn that ties them together (`turn.replay_or_ask`).

A cell whose request (prompt after interpolation, attachments, settings, the conversation before it) hashes
to its recorded turn's `request_hash` is replayed by `engine.ReplayEngine`: no request, the same events, its
tool calls run again locally. The engine sits behind the engines' seam (`engines.base.Engine`) but lives here,
above the engines' layer: only the session (the front door) runs it, so nothing in layers 0-2 imports it.
"""

from __future__ import annotations

from .fingerprint import request_fingerprint
from .planner import Plan, ReplayPlanner
from .recording import RecordedTurn

__all__ = ["request_fingerprint", "Plan", "ReplayPlanner", "RecordedTurn"]
