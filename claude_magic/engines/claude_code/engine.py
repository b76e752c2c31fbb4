"""The Claude Code engine: one long-lived CLI session per conversation, driven from the kernel thread.

The SDK runs on a private event loop thread; the kernel thread waits on the turn's queue with a short timeout,
so Ctrl-C (SIGINT, delivered to the main thread) and the panel's Stop land at once and become `interrupt()`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ...core.answer_scrubbing import scrub_block
from ...core.conversation import INTERRUPTED_TOOL_RESULT, Conversation, TurnRecord
from ...core.errors import TurnInterrupted
from ...core.events import Notice, ToolCallFinished, ToolCallStarted, TurnFinished, TurnStarted
from ...core.redaction import redact, redact_content, register_secrets
from ...core.results import TurnResult
from ...tools.asyncloop import LoopThread
from ...tools.context import ToolCall, ToolContext
from ...tools.decision import decide
from ...tools.output import content_text
from ...tools.policy import configured_policy
from ...transport.file_uploads import large_attachments
from ..base import HasToolbox, TurnRequest, offered_definitions
from .auth import INSTALL_HINT, LoginStatus, sdk_installed
from .bridge import compaction_hooks, consent_hooks, kernel_server, permission_callback
from .carry import carried_prompt
from .faults import exception_line, result_line
from .launcher import Launchers, launch_raced
from .options import session_options
from .session_client import LiveClient, TurnChannel
from .translate import StreamTranslator, display_name, usage_of
from .warmup import wait as sdk_imported
from .warmup import warm_up

CONTEXT_SECONDS = 2.0      # how long the gauge may wait for the CLI's context usage after a turn

__all__ = ["ClaudeCodeEngine"]

POLL_SECONDS = 0.1
CONNECT_SECONDS = 60.0
INTERRUPT_GRACE = 10.0
LAUNCH_ATTEMPTS = 5            # starts tried when the launcher is "Text file busy" (launcher.launch_raced)
_DIRTY = "(out of step)"     # the CLI session holds a turn the conversation dropped

# The SDK logs what it could not read from the CLI (raw stdout) at ERROR; with no logging configured Python
# would print that to the cell. The turn's one-line error says it instead; configured handlers still get it.
logging.getLogger("claude_agent_sdk").addHandler(logging.NullHandler())


class ClaudeCodeEngine:
    """Turns answered by Claude Code (the Agent SDK's CLI), one session per conversation."""

    name = "claude-code"

    def __init__(self, session: HasToolbox | None = None) -> None:
        self.session = session
        self.loop = LoopThread("claude-magic-claude-code")
        self.clients: dict[str, LiveClient] = {}
        self.launchers = Launchers()
        self._status: dict[tuple[Any, ...], LoginStatus | None] = {}
        self._lock = threading.Lock()
        warm_up()

    def __repr__(self) -> str:
        return f"<ClaudeCodeEngine sessions={len(self.clients)}>"

    # -- the seam ----------------------------------------------------------------------------------
    def run_turn(self, request: TurnRequest) -> TurnResult:
        if not sdk_installed():
            from ...core.errors import ConfigurationError

            raise ConfigurationError(f"The Claude Code engine needs claude-agent-sdk: `{INSTALL_HINT}`.")
        settings = request.settings
        register_secrets(settings.claude_code_env.values())
        conversation = request.conversation
        prompt, prompt_text = redact_content(request.prompt), redact(request.prompt_text)
        definitions = offered_definitions(request.toolbox, request.tool_names, self.name)
        options = session_options(settings, definitions, self._mcp_servers())
        self.launchers.cli_path(options.fields.get("cli_path"))    # written before the next line forks a process
        credential = self._credential(settings)          # asked of the CLI while its session starts
        record = TurnRecord(prompt=prompt_text, cell_id=request.cell_id, model=options.model, engine=self.name)
        result = TurnResult(turn_id=record.id, model=options.model, conversation=conversation.name,
                            engine=self.name)
        checkpoint = len(conversation.messages)
        record.start = checkpoint
        started = time.perf_counter()
        large = [f"{title} ({size / 1024 / 1024:.1f} MB)"
                 for title, size in large_attachments(list(prompt), settings.files_api_above)]   # type: ignore[arg-type]
        notices = [*options.notices] + ([f"Claude Code sends {', '.join(large)} with the prompt as it is: the Files "
                                         "API (upload once, refer by id) is used by the API engine only."]
                                        if large else [])
        announced = _Announced(request.emit, [TurnStarted(record.id, options.model, conversation.name, prompt_text),
                                              *(Notice(notice) for notice in notices)])
        request = replace(request, emit=announced)
        turn = _Turn(self, request, result, record, announced.announce)
        try:
            live = self._live_for(conversation, options, definitions, request, announced.announce)
            sent: list[dict[str, Any]] = list(prompt)                # type: ignore[arg-type]
            if live.needs_history:                                    # a new session over earlier turns
                sent, notice = carried_prompt(conversation, sent)
                if notice:
                    request.emit(Notice(notice, "info" if len(sent) > len(prompt) else "warning"))
                live.needs_history = False
            conversation.add_user(list(prompt))   # type: ignore[arg-type]
            turn.run(live, sent)
        except _Fault as fault:
            result.status, result.error = fault.status, fault.line
        record.credential = result.credential = credential()
        result.duration = time.perf_counter() - started
        if len(conversation.messages) > checkpoint + 1 or result.content:
            conversation.answer_pending(INTERRUPTED_TOOL_RESULT if result.status == "interrupted" else
                                        INTERRUPTED_TOOL_RESULT.replace("interrupted by the user", "cut off"))
            record.end = len(conversation.messages)
            record.usage, record.cost, record.stop_reason = result.usage, result.cost, result.stop_reason
            record.status, record.duration = result.status, result.duration
            record.session_id, record.resume_at = turn.session_id, turn.last_uuid
            conversation.turns.append(record)
            if turn.live is not None and not turn.live.dead:
                turn.live.position = record.id
        else:
            conversation.truncate(checkpoint)    # nothing came back: the turn leaves no trace
            if turn.live is not None and turn.sent:
                turn.live.position = _DIRTY
        request.emit(TurnFinished(result))
        return result

    def close(self) -> None:
        with self._lock:
            clients, self.clients = list(self.clients.values()), {}
        for live in clients:
            live.close()
        self.loop.stop()
        self.launchers.close()

    # -- sessions ----------------------------------------------------------------------------------
    def _mcp_servers(self) -> dict[str, Any]:
        if self.session is None:
            return {}
        from ...mcp.agent_sdk import agent_sdk_servers  # first-party; it imports no `mcp` until a server starts

        try:
            return agent_sdk_servers(self.session)
        except Exception:  # noqa: BLE001 - a broken MCP config is reported by the MCP commands, not here
            return {}

    def _credential(self, settings: Any) -> Callable[[], str]:
        """The footer's credential label, to be read later: the first time, `claude auth status` runs on a thread
        meanwhile (shared with "auto"'s check, which may have asked already)."""
        key = (settings.claude_code_cli, tuple(sorted(settings.claude_code_env.items())))
        future: concurrent.futures.Future[LoginStatus | None] = concurrent.futures.Future()
        if key in self._status:
            future.set_result(self._status[key])
        else:
            def ask() -> None:
                from ..selection import cached_login_status

                try:
                    future.set_result(cached_login_status(settings))        # type: ignore[arg-type]
                except BaseException as error:  # noqa: BLE001 - read by the turn
                    future.set_exception(error)

            threading.Thread(target=ask, name="claude-magic-auth-status", daemon=True).start()

        def label() -> str:
            status = self._status[key] = future.result()
            return status.label if status is not None and status.logged_in else "Claude Code (not logged in)"

        return label

    def _live_for(self, conversation: Conversation, options: Any, definitions: list[dict[str, Any]],
                  request: TurnRequest, announce: Callable[[], None]) -> LiveClient:
        """The conversation's CLI session, started or restarted (resumed at its last turn) when needed;
        `announce` is called before anything that makes the user wait (a process start, a model switch)."""
        target = conversation.turns[-1] if conversation.turns else None
        wanted = target.id if target is not None else None
        live = self.clients.get(conversation.name)
        if live is not None and not live.dead and live.key == options.key and live.position == wanted:
            if live.model != options.model:
                announce()
                live.submit(live.client.set_model(options.model)).result(CONNECT_SECONDS)
                live.model = options.model
            return live
        announce()
        if live is not None:
            live.close()
            self.clients.pop(conversation.name, None)
        resume: dict[str, Any] = {}
        if target is not None and target.engine == self.name and target.session_id:
            resume = {"resume": target.session_id, "fork_session": True}
            if target.resume_at:
                resume["resume_session_at"] = target.resume_at
        live = self._connect(options, definitions, resume, request)
        live.needs_history = bool(conversation.turns) and not live.resumed   # carried in the next prompt
        live.position = wanted
        live.model = options.model
        self.clients[conversation.name] = live
        return live

    def _connect(self, options: Any, definitions: list[dict[str, Any]], resume: dict[str, Any],
                 request: TurnRequest, attempts: int = LAUNCH_ATTEMPTS) -> LiveClient:
        sdk_imported()                       # a background import (warmup) finishes first: never two at once
        from claude_agent_sdk import ClaudeAgentOptions

        live = LiveClient(self.loop, None, options.key)
        servers = dict(options.fields.get("mcp_servers") or {})
        if definitions:
            servers["claude-magic"] = kernel_server(definitions, live)
        fields = {**options.fields, "mcp_servers": servers, "model": options.model, **resume}
        fields["cli_path"] = self.launchers.cli_path(fields.get("cli_path"))    # out of the kernel's Ctrl-C
        live.options = ClaudeAgentOptions(**fields, can_use_tool=permission_callback(live),
                                          hooks={**consent_hooks(live), **compaction_hooks(live)},
                                          stderr=live.on_stderr)
        live.resumed = bool(resume)
        try:
            live.connect(CONNECT_SECONDS)
        except Exception as error:  # noqa: BLE001 - classified into one line
            if attempts > 1 and launch_raced(error):      # 0.05, 0.1, 0.2, 0.4 s apart
                time.sleep(0.05 * 2 ** (LAUNCH_ATTEMPTS - attempts))
                return self._connect(options, definitions, resume, request, attempts - 1)
            if resume:
                request.emit(Notice("Could not resume the earlier Claude Code session: starting a new one.",
                                    "warning"))
                return self._connect(options, definitions, {}, request)
            kind, line = exception_line(error, options.fields.get("cli_path"))
            raise _Fault("error", line) from None
        return live


class _Announced:
    """The turn's emit, holding back its opening events (`TurnStarted`, option notices) until `announce()`
    or any other event: a warm turn writes its prompt to the CLI first, so the view's first paint (a widget,
    a display) overlaps Claude's latency instead of adding to the time to the first token."""

    def __init__(self, emit: Callable[[Any], None], opening: list[Any]) -> None:
        self.emit, self.opening = emit, opening

    def announce(self) -> None:
        opening, self.opening = self.opening, []
        for event in opening:
            self.emit(event)

    def __call__(self, event: Any) -> None:
        if self.opening:
            self.announce()
        self.emit(event)


class _Fault(Exception):
    def __init__(self, status: str, line: str) -> None:
        super().__init__(line)
        self.status, self.line = status, line


class _Turn:
    """One turn on a live session: sends the prompt, folds what comes back, answers tool and consent requests."""

    def __init__(self, engine: ClaudeCodeEngine, request: TurnRequest, result: TurnResult,
                 record: TurnRecord, announce: Callable[[], None]) -> None:
        self.engine = engine
        self.announce = announce             # called once the prompt is written: the view paints meanwhile
        self.request = request
        self.result = result
        self.record = record
        self.conversation = request.conversation
        self.translator = StreamTranslator(request.emit)
        self.live: LiveClient | None = None
        self.channel = TurnChannel()
        self.session_id: str | None = None
        self.last_uuid: str | None = None
        self.sent = False
        self.assistant_error: str | None = None
        self.kernel_results: dict[str, dict[str, Any]] = {}
        self.cli_calls: dict[str, tuple[str, float]] = {}
        self.interrupted = False
        self.finished = False

    # -- driving -----------------------------------------------------------------------------------
    def run(self, live: LiveClient, prompt: list[dict[str, Any]]) -> None:
        self.live = live
        live.channel = self.channel
        message = {"type": "user", "message": {"role": "user", "content": prompt}, "parent_tool_use_id": None}
        future = live.submit(self._exchange(live, message))
        self.sent = True
        deadline: float | None = None
        cancellation = self.request.cancellation
        try:
            while not self.finished:
                try:
                    if cancellation is not None and cancellation.cancelled and not self.interrupted:
                        raise KeyboardInterrupt      # Stop: checked between items too, a busy stream never waits
                    if deadline is not None and time.monotonic() > deadline:
                        live.close(timeout=2.0)      # it did not stop: the next turn starts a new process
                        break
                    try:
                        kind, item, reply = self.channel.items.get(timeout=POLL_SECONDS)
                    except queue.Empty:
                        self.announce()              # the write is slow: show the turn anyway
                        continue
                    self._handle(kind, item, reply)
                    if self.finished and self._got_result and kind == "message":
                        self._await_gauge()
                except KeyboardInterrupt:
                    if self.interrupted:
                        continue
                    self.interrupted = True
                    deadline = time.monotonic() + INTERRUPT_GRACE
                    self._interrupt(live)
        finally:
            self.channel.closed = True
            live.channel = None
            self._drain_replies()
            if not future.done():
                future.cancel()
        if self.translator.in_step:
            self._keep(self.translator.end_step(complete=False))
        if self.interrupted:
            self.result.status, self.result.error = "interrupted", str(TurnInterrupted())

    async def _exchange(self, live: LiveClient, message: dict[str, Any]) -> None:
        """On the loop: send the prompt, forward every message until the result (or the failure)."""
        channel = self.channel

        async def one() -> Any:
            yield message

        try:
            await live.client.query(one())
            channel.put("sent", None)
            async for item in live.client.receive_response():
                channel.put("message", item)
            channel.put("context", await _context_usage(live))
            channel.put("end", None)
        except BaseException as error:  # noqa: BLE001 - handed to the kernel thread
            channel.put("failed", error)

    def _interrupt(self, live: LiveClient) -> None:
        if live.client is None:
            return
        try:
            live.submit(live.client.interrupt())
        except RuntimeError:
            live.close(timeout=2.0)

    def _drain_replies(self) -> None:
        """Answer any tool or consent request still queued (the turn is over)."""
        while True:
            try:
                kind, item, reply = self.channel.items.get_nowait()
            except queue.Empty:
                return
            if reply is not None and not reply.done():
                if kind == "tool":
                    reply.set_result({"type": "tool_result", "tool_use_id": item["id"],
                                      "content": INTERRUPTED_TOOL_RESULT, "is_error": True})
                else:
                    reply.set_result((False, INTERRUPTED_TOOL_RESULT))

    # -- what arrives ------------------------------------------------------------------------------
    def _handle(self, kind: str, item: Any, reply: Any) -> None:
        if kind == "sent":
            self.announce()
        elif kind == "message":
            self._message(item)
        elif kind == "tool":
            self._run_tool(item, reply)
        elif kind == "consent":
            self._consent(item, reply)
        elif kind == "notice":
            self.announce()
            self.request.emit(Notice(item))
        elif kind == "context":          # the gauge: what the CLI counts of its context (`/context`)
            if item:
                self.result.context_tokens = int(item.get("totalTokens") or 0)
                self.result.context_window = int(item.get("maxTokens") or 0)
        elif kind == "end":
            self.finished = True
            if self.result.status == "complete" and not self._got_result:
                self._died(None)
        elif kind == "failed":
            self.finished = True
            self._died(item)

    _got_result = False

    def _await_gauge(self) -> None:
        """After the result, the CLI's context usage (asked right after it, a local round trip) for the footer."""
        deadline = time.monotonic() + CONTEXT_SECONDS + 0.5
        while time.monotonic() < deadline:
            try:
                kind, item, reply = self.channel.items.get(timeout=0.05)
            except queue.Empty:
                continue
            if kind in ("end", "failed"):
                return
            self._handle(kind, item, reply)
            if kind == "context":
                return

    def _died(self, error: BaseException | None) -> None:
        """The CLI stopped answering: keep what came, restart it on the next turn."""
        if self.interrupted:
            return
        if self.live is not None:
            self.live.close(timeout=2.0)
        if error is None:
            kind, line = exception_line(RuntimeError("the stream ended without a result"))
            from .faults import DIED

            line = DIED.format(detail="")
        else:
            kind, line = exception_line(error, self.request.settings.claude_code_cli)
        self.result.status = "cut_off" if self.result.content or self.translator.in_step else "error"
        self.result.error = line

    def _message(self, message: Any) -> None:
        import claude_agent_sdk as sdk

        if isinstance(message, sdk.StreamEvent):
            if message.parent_tool_use_id is None:
                self.session_id = message.session_id or self.session_id
                kept = self.translator(message.event)
                if kept is not None:
                    self._keep(kept)
        elif isinstance(message, sdk.AssistantMessage):
            if message.parent_tool_use_id is None:
                self.last_uuid = message.uuid or self.last_uuid
                if message.error:
                    self.assistant_error = message.error
        elif isinstance(message, sdk.UserMessage):
            if message.parent_tool_use_id is None:
                self.last_uuid = message.uuid or self.last_uuid
                self._tool_results(message)
        elif isinstance(message, sdk.ResultMessage):
            self._got_result = True
            self.finished = True
            self._result(message)
        elif isinstance(message, sdk.SystemMessage):
            self.session_id = message.data.get("session_id") or self.session_id
        elif isinstance(message, sdk.RateLimitEvent):
            info = message.rate_limit_info
            if info.status == "allowed_warning":
                self.request.emit(Notice("Claude Code reports the usage limit is near"
                                         f"{_reset_text(info.resets_at)}.", "warning"))

    def _keep(self, blocks: list[dict[str, Any]]) -> None:
        blocks = [scrub_block(block, self.translator.scrub) for block in blocks]   # signed thinking: at turn end
        if blocks:
            self.conversation.add_assistant(blocks)
            self.result.content.extend(blocks)
        self.result.steps += 1
        self.result.stop_reason = self.translator.stop_reason or self.result.stop_reason

    def _tool_results(self, message: Any) -> None:
        import claude_agent_sdk as sdk

        content = message.content if isinstance(message.content, list) else []
        blocks = []
        for block in content:
            if not isinstance(block, sdk.ToolResultBlock):
                continue
            kept = self.kernel_results.pop(block.tool_use_id, None)
            if kept is None:
                kept = {"type": "tool_result", "tool_use_id": block.tool_use_id,
                        "content": _result_content(block.content), "is_error": bool(block.is_error)}
                call = self.cli_calls.pop(block.tool_use_id, None)
                if call is not None:
                    name, started = call
                    self.request.emit(ToolCallFinished(block.tool_use_id, name, "failed" if block.is_error else "done",
                                                       content_text(kept["content"]), bool(block.is_error),
                                                       time.perf_counter() - started))
            blocks.append(kept)
        pending = {call["id"] for call in self.conversation.pending_tool_uses()}
        blocks = [block for block in blocks if block["tool_use_id"] in pending]
        if blocks:
            self.conversation.add_user(blocks)

    def _result(self, message: Any) -> None:
        self.session_id = message.session_id or self.session_id
        self.result.usage = usage_of(message.usage)
        self.result.cost = self._turn_cost(message.total_cost_usd)
        self.result.stop_reason = message.stop_reason or self.result.stop_reason
        if self.interrupted or message.terminal_reason in ("aborted_streaming", "aborted_tools"):
            self.interrupted = True
            return
        if message.is_error or message.subtype != "success":
            kind, line = result_line(message, self.assistant_error, self._answer_text())
            if kind in ("not_logged_in", "login_expired", "auth"):
                from ..selection import forget_login_status

                forget_login_status()
                self.engine._status.clear()
            if kind == "max_steps":
                self.result.status, self.result.error = "max_steps", line
                self.request.emit(Notice(line, "warning"))
                return
            self.result.status, self.result.error = "error", line
            if self.assistant_error and self.result.content:       # the CLI's own error text is not an answer
                self._drop_error_text()

    def _turn_cost(self, total: float | None) -> float | None:
        """This turn's cost: `total_cost_usd` adds up every turn of the CLI process, so take the difference."""
        live = self.live
        if total is None or live is None:
            return total
        before = live.cost_total if total >= live.cost_total else 0.0
        live.cost_total = total
        return total - before

    def _answer_text(self) -> str:
        return "\n".join(block.get("text", "") for block in self.result.content if block.get("type") == "text")

    def _drop_error_text(self) -> None:
        """An API error the CLI turned into assistant text ("API Error: 401 ...") is not kept as the answer."""
        self.conversation.truncate(self.record.start + 1)
        self.result.content.clear()

    # -- tools and consent -------------------------------------------------------------------------
    def _run_tool(self, call: dict[str, Any], reply: Any) -> None:
        toolbox = self.request.toolbox
        try:
            if toolbox is None:
                block = {"type": "tool_result", "tool_use_id": call["id"], "is_error": True,
                         "content": "No tools are available in this session."}
            else:
                block = toolbox.run([call], self.request.emit, self.request.cancellation, self.request.tool_context,
                                    settings=self.request.settings, conversation=self.request.conversation.name)[0]
        except KeyboardInterrupt:
            block = {"type": "tool_result", "tool_use_id": call["id"], "content": INTERRUPTED_TOOL_RESULT,
                     "is_error": True}
            self.kernel_results[call["id"]] = block
            reply.set_result(block)
            raise
        self.kernel_results[call["id"]] = block
        reply.set_result(block)

    def _consent(self, call: dict[str, Any], reply: Any) -> None:
        """Claude Code's own tools and MCP servers' tools: the same policies and consent UI."""
        name, tool_use_id, arguments = call["name"], call["id"], call["input"]
        toolbox = self.request.toolbox
        policies = getattr(toolbox, "policies", {}) or {}
        policy = configured_policy(name, policies) or "ask"
        emit = self.request.emit
        emit(ToolCallStarted(tool_use_id, name, arguments))
        context = self.request.tool_context or ToolContext()
        try:
            decision = decide(ToolCall(tool_use_id, name, arguments, None, policy), context, emit)
        except KeyboardInterrupt:
            reply.set_result((False, INTERRUPTED_TOOL_RESULT))
            emit(ToolCallFinished(tool_use_id, name, "interrupted", INTERRUPTED_TOOL_RESULT, True, 0.0))
            raise
        allowed, message = decision.allowed, decision.refusal
        if allowed:
            self.cli_calls[tool_use_id] = (display_name(name), time.perf_counter())
        else:
            emit(ToolCallFinished(tool_use_id, name, "denied", message, True, 0.0))
        reply.set_result((allowed, message))


def _result_content(content: Any) -> str | list[dict[str, Any]]:
    if content is None:
        return ""
    if isinstance(content, str):
        return redact(content)
    return [block for block in redact_content(list(content)) if isinstance(block, dict)]  # type: ignore[arg-type]


def _reset_text(resets_at: int | None) -> str:
    if not resets_at:
        return ""
    return time.strftime(" (it resets at %H:%M)", time.localtime(resets_at))


async def _context_usage(live: LiveClient) -> dict[str, Any] | None:
    """The CLI's context usage after a turn (`ClaudeSDKClient.get_context_usage`), None if it cannot say in time."""
    try:
        return dict(await asyncio.wait_for(live.client.get_context_usage(), CONTEXT_SECONDS))
    except Exception:  # noqa: BLE001 - an older CLI, a closed process: no gauge, the turn is fine
        return None
