"""Which recorded turn a request replaces (and may replay), and putting a conversation back after a replay.

A notebook cell re-run replaces its turn: with a cell id (JupyterLab, Notebook 7, VS Code) the turn that
cell sent; without one (nbclient, papermill), in a conversation restored from the store, the recorded turns
are matched in order: the first cell whose request fingerprint equals a recorded turn's finds its place,
each following cell takes the next turn, until one is asked afresh (then the conversation is live again).
A replayed turn that ends exactly as recorded puts back the turns after it: re-running an unchanged
cell leaves the conversation as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.conversation import Conversation
from ..core.settings import Settings, TurnOptions
from .recording import REPLAYABLE_STATUS, RecordedTurn, recorded_turns

__all__ = ["Plan", "ReplayPlanner"]

Fingerprinter = Callable[[list[dict[str, Any]], str], str]   # (conversation prefix, recorded engine) -> fingerprint


@dataclass
class Plan:
    """Where a turn goes: `position` is the recorded turn it replaces (None: a new turn at the end)."""

    position: int | None = None
    saved: dict[str, Any] | None = None                        # the conversation before rewinding
    recorded: list[RecordedTurn] = field(default_factory=list)  # the replaced turn, then the later ones
    tail: list[dict[str, Any]] = field(default_factory=list)    # messages after the replaced turn
    by_order: bool = False                                      # matched by the restored order, not a cell id

    @property
    def candidate(self) -> RecordedTurn | None:
        """The recorded turn this request would replay."""
        return self.recorded[0] if self.recorded else None

    @property
    def later(self) -> int:
        """How many recorded turns come after the replaced one."""
        return max(len(self.recorded) - 1, 0)

    def notice(self) -> str:
        """What the cell says when the replaced turn is asked afresh ("" for a new turn)."""
        if self.position is None:
            return ""
        if self.by_order:
            notice = (f"This cell differs from its recorded answer (turn {self.position + 1}), or what came "
                      "before it does: asked afresh")
        else:
            notice = f"Re-ran this cell: its earlier answer (turn {self.position + 1}) is replaced"
        return notice + later_turns_dropped(self.later)

    def undo(self, conversation: Conversation) -> None:
        """Put the conversation back as it was before the rewind."""
        if self.saved is not None:
            conversation.restore(self.saved)


def later_turns_dropped(later: int) -> str:
    """The end of a rewind notice: how many later turns went, and what to do about them."""
    if not later:
        return "."
    return (f"; {later} later turn{'s' if later > 1 else ''} dropped — re-run those cells to ask again.")


class ReplayPlanner:
    """Per session: the conversations restored from the store whose turns are still matched in order."""

    def __init__(self) -> None:
        self._in_order: dict[str, int | None] = {}   # conversation name -> next turn index (None: search)
        self._lock = threading.Lock()

    def restored(self, names: Iterable[str]) -> None:
        """These conversations were just restored: match their turns by order until one is asked afresh."""
        with self._lock:
            for name in names:
                self._in_order[name] = None

    def clear(self, name: str | None = None) -> None:
        """Stop matching by order (one conversation, or all)."""
        with self._lock:
            if name is None:
                self._in_order.clear()
            else:
                self._in_order.pop(name, None)

    def matching_in_order(self, name: str) -> bool:
        with self._lock:
            return name in self._in_order

    def plan(self, conversation: Conversation, options: TurnOptions, settings: Settings,
             fingerprint: Fingerprinter) -> Plan:
        """Find the turn this request replaces and rewind to just before it (nothing changes for a new turn)."""
        if options.new:
            return Plan()
        position = None
        if options.cell_id is not None and settings.rerun == "replace":
            position = conversation.turn_of_cell(options.cell_id)
        by_order = False
        if position is None and options.in_cell and self.matching_in_order(conversation.name):
            position = self._in_order_position(conversation, options, fingerprint)
            by_order = position is not None
            if position is None:
                self.clear(conversation.name)        # a new question after the restored turns
        if position is None:
            return Plan()
        saved = conversation.to_dict()
        recorded, tail = recorded_turns(conversation, position)
        conversation.rewind(position)
        return Plan(position, saved, recorded, tail, by_order)

    def _in_order_position(self, conversation: Conversation, options: TurnOptions,
                           fingerprint: Fingerprinter) -> int | None:
        """The restored turn this cell takes: the next in order, or (first cell) the first one it matches."""
        with self._lock:
            cursor = self._in_order.get(conversation.name)
        turns = conversation.turns
        if cursor is not None:
            if cursor < len(turns) and _same_cell(turns[cursor].cell_id, options.cell_id):
                return cursor
            return None
        for index, record in enumerate(turns):
            if (not _same_cell(record.cell_id, options.cell_id) or record.status not in REPLAYABLE_STATUS
                    or not record.request_hash):
                continue
            probe = Conversation(conversation.name)
            probe.messages = list(conversation.messages[:record.start])
            probe.answer_pending()                   # what rewinding to this turn leaves
            if fingerprint(probe.messages, record.engine) == record.request_hash:
                return index
        return None

    def finish(self, conversation: Conversation, plan: Plan, replayed: bool) -> None:
        """After the turn: an exact replay puts the later turns back; a turn asked afresh ends in-order matching."""
        name = conversation.name
        if not replayed or plan.position is None:
            self.clear(name)
            return
        candidate = plan.candidate
        exact = (candidate is not None and len(conversation.turns) == plan.position + 1
                 and len(conversation.messages) == candidate.record.end)
        if exact and plan.later:
            conversation.messages.extend(plan.tail)
            conversation.turns.extend(recorded.record for recorded in plan.recorded[1:])
        with self._lock:
            if name in self._in_order:
                following = plan.position + 1
                if exact and following < len(conversation.turns):
                    self._in_order[name] = following
                else:
                    del self._in_order[name]


def _same_cell(recorded: str | None, now: str | None) -> bool:
    """Whether a recorded turn may be this cell's: either side without a cell id (nbclient and papermill send none,
    so a notebook recorded in JupyterLab replays there too, matched by its fingerprint), or the same id."""
    return recorded is None or now is None or recorded == now
