"""The `%claude` line commands as plain functions of the session (the magic only dispatches)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .core.conversation import Conversation
from .core.errors import ClaudeMagicError
from .core.model_names import ALIASES, resolve_model
from .session import Session, unpriced

__all__ = ["COMMANDS", "SHELL_COMMANDS", "command", "run_command"]

CommandFunction = Callable[[Session, list[str]], Any]
COMMANDS: dict[str, tuple[CommandFunction, str]] = {}

# Commands the magic runs itself, before `run_command`, because they read the IPython shell (its failed cells),
# not only the session: here for the help and the list of commands, with their one-line usage.
SHELL_COMMANDS: dict[str, str] = {
    "fix": "fix [N]                 explain the notebook's last error (or Err[N]) and propose a fix",
}


def command(name: str, usage: str) -> Callable[[CommandFunction], CommandFunction]:
    """Register a `%claude NAME ...` command with its one-line usage."""
    def register(function: CommandFunction) -> CommandFunction:
        COMMANDS[name] = (function, usage)
        return function
    return register


def run_command(session: Session, words: list[str], *, cell_help: str = "") -> Any:
    """Dispatch `%claude WORDS...`; `cell_help` is the `%%claude` option help the magic adds to `--help`."""
    if not words or words[0] in ("help", "-h", "--help"):
        return help_text(cell_help)
    name, arguments = words[0], words[1:]
    if name in SHELL_COMMANDS:
        raise ClaudeMagicError(f"`%claude {name}` reads the IPython shell: run it as a line magic in IPython.")
    if name not in COMMANDS:
        raise ClaudeMagicError(f"Unknown command {name!r}. Commands: {', '.join(sorted([*COMMANDS, *SHELL_COMMANDS]))} "
                               "(`%claude --help` explains them; ask Claude with a %%claude cell).")
    return COMMANDS[name][0](session, arguments)


def help_text(cell_help: str = "") -> str:
    """`%claude --help`: every command, then `cell_help` (every `%%claude` option, given by the magic)."""
    lines = ["%claude COMMAND — manage the conversation with Claude", ""]
    usages = [usage for _, usage in COMMANDS.values()] + list(SHELL_COMMANDS.values())
    lines += [f"  %claude {usage}" for usage in sorted(usages)]
    if cell_help:
        lines += ["", cell_help]
    return "\n".join(lines)


def _conversation_name(arguments: list[str]) -> str:
    if len(arguments) > 1:
        raise ClaudeMagicError("expected at most one conversation name")
    return arguments[0] if arguments else ""


def _existing(session: Session, name: str) -> Conversation:
    if name not in session.conversations:
        raise ClaudeMagicError(f"No conversation named {name!r}; `%claude chats` lists them.")
    return session.conversations[name]


@command("reset", "reset [NAME]            start the (named) conversation over")
def reset(session: Session, arguments: list[str]) -> str:
    name = _conversation_name(arguments)
    conversation = _existing(session, name)
    turns = len(conversation)
    conversation.reset()
    session.replays.clear(name)
    _persist(session)
    return f"Conversation {name or '(default)'} reset ({turns} turns dropped).{_drop_unused_uploads(session)}"


def _drop_unused_uploads(session: Session) -> str:
    """Delete the Files API uploads no conversation attaches any more; a sentence saying so (or nothing)."""
    from .file_commands import drop_unused_uploads

    return drop_unused_uploads(session)


@command("files", "files [--delete]        attachments this session uploaded (Files API); --delete removes them")
def files(session: Session, arguments: list[str]) -> str:
    from .file_commands import files_command

    return files_command(session, arguments)


def _persist(session: Session) -> None:
    """Save the notebook's store after a command changed a conversation (when persistence is on)."""
    if session.store is not None:
        session.store.save_soon()


@command("history", "history [NAME] [--full]  show the turns: role, text, model, tokens; where it was compacted "
         "(--full: the summaries)")
def history(session: Session, arguments: list[str]) -> str:
    from .views.context_history import compaction_rows, summaries

    full = "--full" in arguments
    conversation = _existing(session, _conversation_name([word for word in arguments if word != "--full"]))
    if not conversation.turns:
        return "The conversation is empty."
    rows = ["| # | prompt | answer | model | input tokens | output tokens | status |",
            "|---:|---|---|---|---:|---:|---|"]
    for number, record in enumerate(conversation.turns, 1):
        answer = _turn_answer(conversation, record.start, record.end)
        status = f"{record.status}, replayed" if record.replayed else record.status
        rows.append(f"| {number} | {_short(record.prompt)} | {_short(answer)} | {record.model} | "
                    f"{record.usage.total_input_tokens:,} | {record.usage.output_tokens:,} | {status} |")
        rows += compaction_rows(conversation, number, 7)
    if any(record.replayed for record in conversation.turns):
        rows += ["", "replayed: answered from the recording in this kernel, no request (tokens are the "
                 "recorded answer's)."]
    if full:
        rows += summaries(conversation) or ["", "No compaction so far."]
    return "\n".join(rows)


def _turn_answer(conversation: Conversation, start: int, end: int) -> str:
    texts = [block.get("text", "") for message in conversation.messages[start:end]
             if message["role"] == "assistant" for block in message["content"]
             if isinstance(block, dict) and block.get("type") == "text"]
    return " ".join(texts)


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@command("model", "model [NAME]            show or set the default model (alias or full id)")
def model(session: Session, arguments: list[str]) -> str:
    if not arguments:
        aliases = ", ".join(f"{alias}={target}" for alias, target in ALIASES.items())
        return f"Model: {session.settings.model}. Aliases: {aliases}."
    name = checked_model_name(arguments)
    session.settings = session.settings.with_options(model=resolve_model(name, session.settings.aliases))
    return model_set(session)


def checked_model_name(arguments: list[str]) -> str:
    """The one model name of `%claude model NAME`, or a one-line error (the magic sets its trait with it)."""
    if len(arguments) != 1:
        raise ClaudeMagicError("usage: %claude model [NAME] — one model id or alias")
    if not arguments[0].strip():
        raise ClaudeMagicError("The model name is empty: give a model id or an alias (opus, sonnet, haiku).")
    return arguments[0]


def model_set(session: Session) -> str:
    """What `%claude model NAME` reports."""
    return f"Model set to {session.settings.model}."


@command("usage", "usage                   tokens and cost of this session")
def usage(session: Session, arguments: list[str]) -> str:
    total = session.usage
    partial = bool(session.unpriced_turns)
    rows = ["| conversation | turns | input tokens | cache-write tokens | cache-read tokens | output tokens | "
            "cost (USD) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, conversation in session.conversations.items():
        if not conversation.turns:
            continue
        turn_usage = sum((record.usage for record in conversation.turns), type(total)())
        unknown = any(unpriced(record.cost, record.usage) for record in conversation.turns)
        partial = partial or unknown
        cost = sum(record.cost or 0.0 for record in conversation.turns)
        rows.append(f"| {_cell(name or '(default)')} | {len(conversation)} | {turn_usage.input_tokens:,} | "
                    f"{turn_usage.cache_creation_input_tokens:,} | {turn_usage.cache_read_input_tokens:,} | "
                    f"{turn_usage.output_tokens:,} | {_dollars(None if unknown else cost)} |")
    session_cost = None if partial else session.cost     # any unknown part: no total that looks exact
    rows.append(f"| **session** | | {total.input_tokens:,} | {total.cache_creation_input_tokens:,} | "
                f"{total.cache_read_input_tokens:,} | {total.output_tokens:,} | {_dollars(session_cost)} |")
    if partial:
        rows += ["", "—: a turn used a model without a known price (`%config ClaudeMagic.prices` sets one)."]
    if total.web_search_requests or total.web_fetch_requests:
        rows += ["", f"Web: {total.web_search_requests:,} search(es), billed per search on top of tokens (in the "
                 f"costs above; $10 per 1,000 by default), {total.web_fetch_requests:,} fetch(es) (tokens only)."]
    return "\n".join(rows)


def _dollars(cost: float | None) -> str:
    """A cost cell: `$0.0123`, or `—` when part of it is unknown."""
    return "—" if cost is None else f"${cost:.4f}"


def _cell(text: str) -> str:
    """Text for a Markdown table cell (a `|` would end the cell)."""
    return text.replace("|", "\\|")


@command("save", "save PATH [NAME] [--force]  write the conversation to a JSON file (lossless)")
def save(session: Session, arguments: list[str]) -> str:
    path, rest = _new_file(arguments, "save PATH [NAME] [--force]")
    conversation = _existing(session, _conversation_name(rest))
    try:
        path.write_text(json.dumps(conversation.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    except OSError as error:
        raise ClaudeMagicError(f"Could not write {path}: {error.strerror}") from None
    return f"Saved {len(conversation)} turns to {path}."


def _new_file(arguments: list[str], usage: str) -> tuple[Path, list[str]]:
    """`save`/`export`'s target and the other words: never a notebook, and an existing file only with --force."""
    force = "--force" in arguments
    words = [word for word in arguments if word != "--force"]
    if not words:
        raise ClaudeMagicError(f"usage: %claude {usage}")
    path = Path(words[0]).expanduser()
    if ".ipynb" in (path.suffix.lower(), path.resolve().suffix.lower()):
        raise ClaudeMagicError(f"{path} is a notebook: claude-magic never writes over .ipynb files (choose a .json "
                               "or .md name).")
    if path.exists() and not force:
        raise ClaudeMagicError(f"{path} already exists: add --force to overwrite it.")
    return path, words[1:]


@command("load", "load PATH [NAME]        replace the conversation with one saved by `save`")
def load(session: Session, arguments: list[str]) -> str:
    from .core.json_file import UnusableFile, read_json

    if not arguments:
        raise ClaudeMagicError("usage: %claude load PATH [NAME]")
    path = Path(arguments[0]).expanduser()
    try:
        conversation = Conversation.from_dict(read_json(path))     # size, depth, then every message and turn
    except OSError as error:
        raise ClaudeMagicError(f"Could not read {path}: {error.strerror or error}") from None
    except (UnusableFile, ValueError) as error:
        raise ClaudeMagicError(f"{path} is not a claude-magic conversation file ({error}).") from None
    name = _conversation_name(arguments[1:])
    conversation.name = name
    session.conversations[name] = conversation
    session.replays.clear(name)
    _persist(session)
    return f"Loaded {len(conversation)} turns from {path} into {name or 'the default conversation'}."


@command("restore", "restore [PATH]          reload the notebook's saved conversations (or a store file's)")
def restore(session: Session, arguments: list[str]) -> str:
    from .store import NotebookStore

    if len(arguments) > 1:
        raise ClaudeMagicError("usage: %claude restore [PATH] — PATH is a store file (.claude_magic/NOTEBOOK.json)")
    source = Path(arguments[0]).expanduser().absolute() if arguments else None
    store = session.store
    if store is None and source is None:
        raise ClaudeMagicError("No store for this session (terminal IPython, or `ClaudeMagic.store` is off): give "
                               "a store file, `%claude restore PATH`, or set `%config ClaudeMagic.store = 'PATH'`.")
    if source is not None and not source.is_file():
        raise ClaudeMagicError(f"No store file at {source}.")
    reader = store if store is not None else NotebookStore(session, source)   # type: ignore[arg-type]
    if store is not None:
        store.flush()
    conversations, turns = reader.restore(replace=True, path=source, accept=True)   # the user vouches for it
    where = source or reader.path
    if not conversations:
        return f"Nothing to restore from {where}."
    return (f"Restored {turns} turn{'s' if turns != 1 else ''} in {conversations} conversation"
            f"{'s' if conversations != 1 else ''} from {where} and accepted it as this user's: re-run cells replay "
            "their recorded answers, and their recorded tool calls run under your tool policies.")


@command("forget", "forget                  delete the notebook's saved conversations and this kernel's")
def forget(session: Session, arguments: list[str]) -> str:
    if arguments:
        raise ClaudeMagicError("usage: %claude forget — it takes no arguments (`%claude reset NAME` clears one "
                               "conversation)")
    store = session.store
    if store is None:
        conversations = [item for item in session.conversations.values() if item.turns]
        turns = sum(len(item) for item in conversations)
        for item in session.conversations.values():
            item.reset()
        session.replays.clear()
        return (f"Forgot {turns} turns in {len(conversations)} conversations (no store is kept for this "
                f"session); the next cells ask afresh.{_drop_unused_uploads(session)}")
    conversations, turns, deleted = store.forget()
    where = f"deleted {store.path}" if deleted else f"nothing was saved at {store.path}"
    return (f"Forgot {turns} turn{'s' if turns != 1 else ''} in {conversations} conversation"
            f"{'s' if conversations != 1 else ''} ({where}); the next cells ask afresh.{_drop_unused_uploads(session)}")


@command("chats", "chats                   list the conversations (the default one has no name)")
def chats(session: Session, arguments: list[str]) -> str:
    rows = ["| conversation | turns | messages | last prompt |", "|---|---|---|---|"]
    for name, conversation in session.conversations.items():
        last = conversation.turns[-1].prompt if conversation.turns else ""
        rows.append(f"| {name or '(default)'} | {len(conversation)} | {len(conversation.messages)} | {_short(last)} |")
    return "\n".join(rows)


@command("pop", "pop [NAME]              drop the last turn of the (named) conversation")
def pop(session: Session, arguments: list[str]) -> str:
    conversation = _existing(session, _conversation_name(arguments))
    record = conversation.pop()
    if record is None:
        return "The conversation is empty: nothing to drop."
    _persist(session)
    return f"Dropped the last turn ({_short(record.prompt)}); {len(conversation)} turns remain."


@command("export", "export PATH.md [NAME] [--force]  write a readable Markdown transcript")
def export(session: Session, arguments: list[str]) -> str:
    from .views.markdown_export import conversation_markdown

    path, rest = _new_file(arguments, "export PATH.md [NAME] [--force]")
    conversation = _existing(session, _conversation_name(rest))
    try:
        path.write_text(conversation_markdown(conversation), encoding="utf-8")
    except OSError as error:
        raise ClaudeMagicError(f"Could not write {path}: {error.strerror}") from None
    return f"Wrote a transcript of {len(conversation)} turns to {path}."


@command("models", "models                  the models the API offers, with context window and max output")
def models(session: Session, arguments: list[str]) -> str:
    client = session.clients.get(session.settings)
    listed = _api_call(session, lambda: session.catalog.list(client))
    aliases = {target: alias for alias, target in {**ALIASES, **session.settings.aliases}.items()}
    rows = ["| model | alias | name | context window | max output |", "|---|---|---|---|---|"]
    for info in listed:
        window = getattr(info, "max_input_tokens", None)
        output = getattr(info, "max_tokens", None)
        rows.append(f"| {info.id} | {aliases.get(info.id, '')} | {getattr(info, 'display_name', '')} | "
                    f"{window:,} | {output:,} |" if window and output else
                    f"| {info.id} | {aliases.get(info.id, '')} | {getattr(info, 'display_name', '')} | ? | ? |")
    return "\n".join(rows)


@command("tokens", "tokens [NAME]           count the conversation's tokens and how full the context window is")
def tokens(session: Session, arguments: list[str]) -> str:
    from .transport.context_window import count_tokens
    from .transport.request import build_params

    conversation = _existing(session, _conversation_name(arguments))
    if not conversation.messages:
        return "The conversation is empty."
    client = session.clients.get(session.settings)
    tools = session.toolbox.definitions(None) if session.toolbox is not None else []
    from .engines.context_notes import managed_params
    from .transport.context_management import sent_messages

    params = build_params(sent_messages(conversation.messages), session.settings, tools)   # what a turn would send
    params = managed_params(client, params, session.settings, session.catalog)[0]
    if params["messages"][-1]["role"] == "assistant":
        params["messages"] = [*params["messages"], {"role": "user", "content": "(next prompt)"}]
    counted = _api_call(session, lambda: count_tokens(client, params))
    window = _api_call(session, lambda: session.catalog.window(client, params["model"]))
    share = counted / window if window else 0.0
    return (f"{counted:,} input tokens for the next request to {params['model']}: {share:.1%} of its "
            f"{window:,}-token context window.")


@command("compact", "compact [NAME] [--instructions TEXT]  summarize the conversation now: later turns send the "
         "summary in place of the turns (the history keeps them)")
def compact(session: Session, arguments: list[str]) -> str:
    from .engines.compaction import compact_now

    words, instructions = list(arguments), None
    if "--instructions" in words:
        at = words.index("--instructions")
        instructions, words = " ".join(words[at + 1:]).strip().strip("\"'"), words[:at]
        if not instructions:
            raise ClaudeMagicError("--instructions needs a text: `%claude compact --instructions \"keep the numbers\"`")
    conversation = _existing(session, _conversation_name(words))
    if _engine_for(session) == "claude-code":        # the CLI compacts its own session: `/compact`
        from .core.settings import TurnOptions

        result = session.ask("/compact" + (f" {instructions}" if instructions else ""),
                             options=TurnOptions(conversation=conversation.name))
        if result.error:
            raise ClaudeMagicError(result.error)
        return "Claude Code compacted its session; the notebook's history keeps every turn."
    client = session.clients.get(session.settings)
    tools = session.toolbox.definitions(None) if session.toolbox is not None else []
    done = _api_call(session, lambda: compact_now(client, conversation, session.settings, session.catalog, tools,
                                                  instructions, session.prices))
    session.usage = session.usage + done.usage
    session.cost += done.cost or 0.0
    _persist(session)
    cost = f"${done.cost:.4f}" if done.cost is not None else "cost unknown"
    return (f"Compacted: {done.read_tokens:,} tokens of conversation now read as a {done.summary_tokens:,}-token "
            f"summary ({cost}). Later turns send it in place of the turns so far; `%claude history --full` shows it.")


def _engine_for(session: Session) -> str:
    from .engines.selection import choose_engine

    try:
        return choose_engine(session.settings)
    except ClaudeMagicError:
        return "api"


def _api_call(session: Session, call: Callable[[], Any]) -> Any:
    """Run an API call for a command, turning failures into one-line errors."""
    from .transport.client import resolved_base_url
    from .transport.errors import translate_exception

    try:
        return call()
    except Exception as exc:
        error = translate_exception(exc, model=session.settings.model, base_url=resolved_base_url(session.settings))
        if error is None:
            raise
        raise error from None


@command("tools", "tools                   the tools Claude may call, their consent policy and schemas")
def tools(session: Session, arguments: list[str]) -> str:
    from .tools import describe_tools

    if session.toolbox is None:
        return "No tools are available in this session."
    return describe_tools(session.toolbox, schemas="--brief" not in arguments)


@command("auth", "auth                    where the API credential comes from, the Claude Code login, the engine used")
def auth(session: Session, arguments: list[str]) -> str:
    from .auth_report import auth_report

    if arguments:
        raise ClaudeMagicError("usage: %claude auth — it takes no arguments")
    return auth_report(session.settings)


@command("mcp", "mcp [add|rm|approve|…]  MCP servers: status, tools, last error; add, remove, restart one; "
                "approve or revoke a project .mcp.json's server")
def mcp(session: Session, arguments: list[str]) -> str:
    from .mcp.commands import mcp_command

    return mcp_command(session, arguments)


@command("chat", "chat [--side] [NAME]    open the chat panel on the (named) conversation (--side: in JupyterLab's side area)")
def chat(session: Session, arguments: list[str]) -> Any:
    from .panel import chat as open_chat

    side = "--side" in arguments
    unknown = [word for word in arguments if word.startswith("-") and word != "--side"]
    if unknown:
        raise ClaudeMagicError(f"unknown option {unknown[0]}: %claude chat [--side] [NAME]")
    return open_chat(conversation=_conversation_name([word for word in arguments if word != "--side"]), side=side)
