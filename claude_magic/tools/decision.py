"""The one consent decision for every tool call, whoever runs it (the API engine's executor, Claude Code).

Policy first (`deny`, `allow`, `ask`); a call replayed from a record this user did not write asks whatever the
policy; asking goes to the front end's approver, else the tool's own (Run / Skip on a notebook cell), else the
console; "could not ask" and a broken consent UI
never mean yes. A KeyboardInterrupt while asking propagates: the caller stops the turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.events import ConsentRequested, Event
from .consent import DECLINED, NO_CONSENT_CHANNEL, POLICY_DENIED, UNTRUSTED_RECORD, ConsentUnavailable, ask_in_console
from .context import ToolCall, ToolContext

__all__ = ["Decision", "decide"]


@dataclass(frozen=True)
class Decision:
    """Whether the call may run; when not, the `tool_result` text that tells Claude why."""

    allowed: bool
    refusal: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def decide(call: ToolCall, context: ToolContext, emit: Callable[[Event], None]) -> Decision:
    """Decide `call` under `call.policy`, asking through `context.approver` (or the console) when needed."""
    if call.policy == "deny":
        return Decision(False, POLICY_DENIED.format(name=call.name))
    record = call.record if call.record is not None else context.record
    untrusted = record is not None and not record.trusted
    if call.policy == "allow" and not untrusted:      # a record this user did not write asks whatever the policy
        return ALLOWED
    if record is not call.record:
        call = ToolCall(call.id, call.name, call.input, call.tool, call.policy, record)
    emit(ConsentRequested(call.id, call.name, call.input))
    approver = context.approver or getattr(call.tool, "approver", None) or ask_in_console
    try:
        approved = approver(call)
    except ConsentUnavailable:
        if untrusted and record is not None:
            return Decision(False, UNTRUSTED_RECORD.format(path=record.path or "a store file"))
        return Decision(False, NO_CONSENT_CHANNEL.format(name=call.name))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken consent UI must never mean "yes"
        return Decision(False, f"The tool call was not run: asking the user failed ({type(exc).__name__}: {exc}).")
    return ALLOWED if approved is True else Decision(False, DECLINED)
