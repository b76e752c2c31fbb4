"""The `%claude` / `%%claude` magics: parse options, build a turn, hand events to a view."""

from __future__ import annotations

import shlex
from dataclasses import fields
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, CInt, Dict, Enum, Float, List, TraitError, Unicode, Union, observe, validate

from .core.errors import ConfigurationError
from .core.model_names import DEFAULT_MODEL
from .core.settings import (
    CACHE_TTLS,
    CONTEXT_MANAGEMENT_MODES,
    EFFORT_LEVELS,
    ENGINE_NAMES,
    LIMITS,
    Settings,
    ViewOptions,
    check_limit,
)

__all__ = ["ClaudeMagic", "cell_magic_help"]


@magics_class
class ClaudeMagic(Magics):
    """Talk to Claude from notebook cells. Configure with `%config ClaudeMagic.model = "opus"`."""

    model = Unicode(DEFAULT_MODEL, help="Default model: a full id or an alias (opus, sonnet, haiku). "
                    "ANTHROPIC_MODEL overrides the built-in default.").tag(config=True)
    max_tokens = CInt(8192, help="Default max_tokens of an answer.").tag(config=True)
    system = Unicode(None, allow_none=True, help="Default system prompt.").tag(config=True)
    thinking = Union([Unicode(), CInt()], default_value=None, allow_none=True,
                     help="Default thinking: None, 'adaptive' or a token budget.").tag(config=True)
    effort = Enum(list(EFFORT_LEVELS), default_value=None, allow_none=True,
                  help="Default effort level (output_config.effort).").tag(config=True)
    thinking_display = Enum(["summarized", "omitted"], default_value="summarized",
                            help="Whether thinking text is returned when thinking is on.").tag(config=True)
    live_view = Bool(True, help="Stream answers into ipywidgets in notebook front ends (False: one output "
                     "refreshed a few times a second). Either way the cell ends with a static output that "
                     "survives a reload.").tag(config=True, view="live")
    thinking_open = Bool(False, help="Show thinking sections expanded (they are collapsed by default)."
                         ).tag(config=True, view="thinking_open")
    stream_widget = Bool(True, help="Stream the live view through the append-only stream widget (anywidget: "
                         "only new HTML travels). False: stock ipywidgets, for front ends where anywidget's "
                         "JavaScript cannot load.").tag(config=True, view="stream_widget")
    cache = Bool(True, help="Prompt caching (a cache breakpoint on every request).").tag(config=True)
    cache_ttl = Enum(list(CACHE_TTLS), default_value="5m", help="Prompt cache lifetime.").tag(config=True)
    base_url = Unicode(None, allow_none=True,
                       help="API endpoint; default ANTHROPIC_BASE_URL or the public API.").tag(config=True)
    max_retries = CInt(2, help="Retries made by the SDK on 429/5xx/connection errors.").tag(config=True)
    timeout = Float(600.0, help="Seconds before a request times out.").tag(config=True)
    max_steps = CInt(20, help="Most API calls in one turn's tool loop.").tag(config=True)
    tool_timeout = Float(120.0, help="Seconds a tool call may run.").tag(config=True)
    tool_result_budget = CInt(20_000, help="Characters of a tool result sent to Claude.").tag(config=True)
    aliases = Dict(help="Extra model aliases, e.g. {'fast': 'claude-haiku-4-5'}.").tag(config=True)
    rerun = Enum(["replace", "append"], default_value="replace",
                 help="Re-running a %%claude cell: 'replace' its earlier turn (later turns are dropped), "
                      "or 'append' a new turn.").tag(config=True)
    context_window_check = Bool(True, help="Refuse a turn that would overflow the model's context window, "
                                "before sending it.").tag(config=True)
    tool_policies = Dict(help="Consent per tool: 'ask', 'allow' or 'deny', e.g. {'run_python': 'allow'}; "
                         "'*' sets every tool not named.").tag(config=True)
    disabled_tools = List(Unicode(), help="Tools never offered to Claude, e.g. ['run_python'] "
                          "(globs too: ['mcp__git__*']).").tag(config=True)
    mcp_servers = Dict(help="MCP servers, in .mcp.json's shape: {'git': {'command': 'uvx', 'args': "
                       "['mcp-server-git'], 'env': {...}}, 'docs': {'type': 'http', 'url': ..., 'headers': {...}}}; "
                       "added to those of .mcp.json files. Env and header values are secrets.").tag(config=True)
    map_confirm_above = Float(1.0, allow_none=True, help="`claude_magic.map` asks before a run whose estimated "
                              "cost (USD) is above this; None never asks.").tag(config=True, view="map_confirm_above")
    prices = Dict(help="Price overrides, USD per million tokens: {'claude-opus-5-5': [4, 20]} "
                  "(model id prefix: [input, output]).").tag(config=True)
    headers = Dict(help="Extra HTTP headers sent with every API request, e.g. {'x-gateway-key': '...'}. "
                   "Values are treated as secrets: never shown in outputs, history, exports or errors."
                   ).tag(config=True, setting="extra_headers")
    engine = Enum(list(ENGINE_NAMES), default_value="auto",
                  help="Who answers: 'api' (the Messages API with an API credential), 'claude-code' (Claude Code "
                       "through claude-agent-sdk, with its login), or 'auto' (the API when a credential resolves, "
                       "else Claude Code when it is logged in).").tag(config=True)
    claude_code_tools = List(Unicode(), help="Claude Code's own tools to offer with the claude-code engine, e.g. "
                             "['Read', 'Bash'] (none by default); each call still asks per ClaudeMagic.tool_policies."
                             ).tag(config=True)
    claude_code_cli = Unicode(None, allow_none=True, help="The `claude` executable for the claude-code engine "
                              "(default: the CLI bundled with claude-agent-sdk).").tag(config=True)
    claude_code_env = Dict(help="Extra environment for the Claude Code CLI (e.g. CLAUDE_CONFIG_DIR); values are "
                           "treated as secrets.").tag(config=True)
    store = Union([Bool(), Unicode()], default_value=True,
                  help="Where the notebook's conversations are saved: True beside the notebook "
                       "(.claude_magic/NOTEBOOK.json), a .json file or a folder, or False / '' for nowhere. "
                       "Restored when the extension loads in a new kernel for the notebook.").tag(config=True)
    replay = Bool(True, help="Re-running a cell whose request is unchanged (prompt, attachments, settings, the "
                  "conversation before it) replays its recorded answer with no request; its tool calls run "
                  "again locally. False: always ask (`--fresh` does it for one cell).").tag(config=True)
    context_management = Enum(list(CONTEXT_MANAGEMENT_MODES), default_value="auto",
                              help="'auto': where the model supports it, the API clears old tool results from what "
                                   "Claude re-reads and compacts the conversation at compact_trigger (the full history "
                                   "stays in the notebook and the store); 'off': never.").tag(config=True)
    compact_trigger = CInt(150_000, help="Input tokens at which the conversation is compacted (at most 80 % of "
                           "the model's context window).").tag(config=True)
    clear_trigger = CInt(100_000, help="Input tokens at which old tool results are cleared (at most half the "
                         "context window).").tag(config=True)
    clear_keep = CInt(3, help="The most recent tool uses whose results are never cleared.").tag(config=True)
    max_budget_usd = Float(None, allow_none=True, help="The most this kernel's turns may spend, in USD (None: no "
                           "limit): the API engine sends no request past it; Claude Code gets it as the Agent "
                           "SDK's max_budget_usd.").tag(config=True)

    server_tools = List(Union([Unicode(), Dict()]), help="The API's server tools offered on every turn: "
                        "'web_search', 'web_fetch', or dicts with options, e.g. [{'name': 'web_search', 'max_uses': 3, "
                        "'allowed_domains': ['pandas.pydata.org']}, 'web_fetch']. `%%claude --web` turns both on for "
                        "one cell, `--no-web` none. Claude Code: its WebSearch / WebFetch, asked per tool_policies."
                        ).tag(config=True)

    files_api_above = CInt(1024 * 1024, allow_none=True, help="Attachments (PDFs, images) larger than this many "
                           "bytes are uploaded once through the Files API and sent by file id in every later "
                           "request, instead of again as base64; None: always inline. API engine only."
                           ).tag(config=True)

    @validate("server_tools")
    def _valid_server_tools(self, proposal: Any) -> Any:
        from .transport.server_tools import server_tool_names

        try:
            server_tool_names(proposal["value"])
        except ConfigurationError as error:
            raise TraitError(str(error)) from None
        return proposal["value"]

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        self._tool_config_pending = True
        self._store_pending = True
        self._code_inserter: Any = None
        super().__init__(shell=shell, **kwargs)
        # Only configured tool settings replace the toolbox's: policies set from code before the first turn stay.
        self._tool_config_pending = bool(self.tool_policies or self.disabled_tools)
        import os

        if os.environ.get("ANTHROPIC_MODEL") and "model" not in (self.config.get("ClaudeMagic") or {}):
            self.model = os.environ["ANTHROPIC_MODEL"]

    def settings(self) -> Settings:
        """The traitlets config as the core's plain settings: every config trait named like a `Settings` field (or
        tagged `setting=FIELD`) gives that field; values the API would refuse are refused here."""
        if not self.model.strip():
            raise UsageError("ClaudeMagic.model is empty: set a model id or an alias (opus, sonnet, haiku).")
        values = self._tagged("setting", Settings)
        values["extra_headers"] = self._checked_headers()    # re-checked: the dict may have been changed in place
        return Settings.from_config(values)   # numeric limits were checked at assignment (`_valid_limit`)

    def view_options(self) -> ViewOptions:
        """The display choices (traits tagged `view=FIELD`) as the session's `ViewOptions`."""
        return ViewOptions(**self._tagged("view", ViewOptions))

    def _tagged(self, tag: str, target: type) -> dict[str, Any]:
        """{field: value} of the config traits that fill `target`'s fields: tagged `tag=FIELD`, or named like one
        when `tag` is "setting"."""
        names = {item.name for item in fields(target)}
        values: dict[str, Any] = {}
        for name, trait in self.traits(config=True).items():
            field_name = trait.metadata.get(tag, name if tag == "setting" else None)
            if field_name in names:
                values[field_name] = getattr(self, name)
        return values

    def _checked_headers(self) -> dict[str, str]:
        """`headers` re-checked (the dict may have been changed in place), or a one-line UsageError."""
        from .transport.credentials import checked_headers

        try:
            return checked_headers(self.headers)
        except ConfigurationError as error:
            raise UsageError(str(error)) from None

    @validate(*LIMITS)
    def _valid_limit(self, proposal: Any) -> Any:
        """Refuse a timeout, budget or count no request could use at assignment (one line)."""
        try:
            check_limit(proposal["trait"].name, proposal["value"])
        except ConfigurationError as error:
            raise TraitError(f"ClaudeMagic.{error}") from None
        return proposal["value"]

    @validate("headers")
    def _valid_headers(self, proposal: Any) -> dict[str, str]:
        """Refuse a header that cannot be sent at assignment; its values become secrets."""
        from .transport.credentials import checked_headers

        try:
            return checked_headers(proposal["value"])
        except ConfigurationError as error:
            raise TraitError(str(error)) from None

    @validate("claude_code_env")
    def _valid_claude_code_env(self, proposal: Any) -> dict[str, Any]:
        """Its values become secrets at assignment (redacted wherever they show, `%config` included)."""
        from .core.redaction import register_secrets

        register_secrets(str(value) for value in proposal["value"].values())
        return proposal["value"]

    @validate("mcp_servers")
    def _valid_mcp_servers(self, proposal: Any) -> dict[str, Any]:
        """Refuse a server entry that cannot start at assignment; env and header values become secrets."""
        from .mcp.config import ServersDict, parse_servers

        try:
            parse_servers(proposal["value"], "ClaudeMagic.mcp_servers")
        except ConfigurationError as error:
            raise TraitError(str(error)) from None
        return ServersDict(proposal["value"])

    @classmethod
    def class_get_trait_help(cls, trait: Any, inst: Any = None, helptext: str | None = None) -> str:
        """`%config ClaudeMagic` help, with header values (secrets) redacted from the current values."""
        from .core.redaction import redact

        return redact(super().class_get_trait_help(trait, inst, helptext))

    def _view(self, session: Any) -> Any:
        """The view for the current front end, with the session's display choices."""
        from .views.select import session_view

        return session_view(session, self.shell)

    def configured_session(self) -> Any:
        """The kernel's session with this config pushed into it: settings, view options, prices, tools, MCP servers
        and the notebook's store (the Python API, `chat()` and `map()` get it through `claude_magic.api`)."""
        from .session import get_session
        from .views.result_display import show_results_richly

        show_results_richly()
        session = get_session()
        session.settings = self.settings()
        session.view_options = self.view_options()
        session.prices = _prices(self.prices)
        if self._tool_config_pending and session.toolbox is not None:
            from .tools import apply_config

            self._tool_config_pending = False
            try:
                apply_config(session.toolbox, dict(self.tool_policies), list(self.disabled_tools))
            except ConfigurationError as error:
                raise UsageError(str(error)) from None
        from .mcp.attach import attach

        try:
            attach(session, self.mcp_servers, self.shell, session.settings.tool_timeout)
        except ConfigurationError as error:
            raise UsageError(str(error)) from None
        if self._store_pending:
            from .store import attach_store

            self._store_pending = False
            attach_store(session, self.shell, self.store)   # restores the notebook's conversations on first use
        if session.store is not None:
            session.store.report_problems()
        return session

    @observe("store")
    def _store_changed(self, _change: Any) -> None:
        """A new `ClaudeMagic.store` applies on the next use (moving the store, or turning it off)."""
        self._store_pending = True

    @observe("engine")
    def _engine_changed(self, change: Any) -> None:
        """Choosing Claude Code starts importing its Agent SDK in the background: the first turn waits less."""
        if change["new"] == "claude-code":
            from .engines.claude_code.warmup import warm_up

            warm_up()

    @observe("tool_policies", "disabled_tools")
    def _tool_config_changed(self, _change: Any) -> None:
        """Config changes reach the toolbox on the next use (policies set from code stay until then)."""
        self._tool_config_pending = True

    @line_magic
    def claude(self, line: str) -> Any:
        """%claude COMMAND [ARGS]: reset, history, model, usage, save, load, tools ... (`%claude --help`)."""
        from .commands import run_command

        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"%claude: {error}") from None
        if words and words[0] == "fix":
            self.fix(" ".join(words[1:]))
            return None
        if words[:1] == ["model"] and len(words) > 1:
            self._set_model(words[1:])
            return None
        session = self.configured_session()
        output = run_command(session, words, cell_help=cell_magic_help())
        if isinstance(output, str):
            _show_text(output)
            return None
        return output

    @magic_arguments()
    @argument("-m", "--model", help="Model id or alias (opus, sonnet, haiku).")
    @argument("-s", "--system", help="System prompt for this cell.")
    @argument("--max-tokens", type=int, help="Most tokens in the answer.")
    @argument("--think", nargs="?", const="adaptive", metavar="BUDGET",
              help="Show Claude's thinking: adaptive, or a token budget (>= 1024).")
    @argument("--effort", choices=EFFORT_LEVELS, help="Effort level.")
    @argument("--new", action="store_true", help="Answer outside the running conversation.")
    @argument("--chat", metavar="NAME", help="Talk in the named conversation.")
    @argument("--tools", metavar="A,B", help="Offer only these tools (comma-separated).")
    @argument("--no-tools", action="store_true", help="Offer no tools for this cell.")
    @argument("-a", "--attach", action="append", metavar="SPEC",
              help="Attach files (images, PDFs, text), variables (figures, PIL images, bytes) or `figure` "
                   "(the current matplotlib figure); repeat or separate with commas.")
    @argument("--cite", action="store_true", help="Turn citations on for the attached PDFs and text files: the "
              "answer points at pages and passages, listed under it.")
    @argument("-f", "--format", choices=["markdown", "code"], default="markdown",
              help="`code`: answer with one code cell, inserted below (never run).")
    @argument("--code", action="store_true", help="Same as `-f code`.")
    @argument("--no-cache", action="store_true", help="No prompt-cache breakpoint for this cell.")
    @argument("--cache-ttl", choices=CACHE_TTLS, help="Prompt-cache lifetime for this cell.")
    @argument("--fresh", action="store_true", help="Ask Claude even if this cell's recorded answer could be "
              "replayed (ClaudeMagic.replay).")
    @argument("--web", action="store_true", default=None, help="Let Claude search and fetch web pages for this "
              "cell (web_search, web_fetch; ClaudeMagic.server_tools sets their options).")
    @argument("--no-web", dest="web", action="store_false", default=None, help="No web tools for this cell.")
    @argument("--engine", choices=ENGINE_NAMES,
              help="Who answers this cell: the Messages API, Claude Code, or auto (ClaudeMagic.engine).")
    @argument("--schema", metavar="NAME", help="Answer as JSON fitting this schema (a pydantic model, dataclass, "
              "TypedDict or JSON-schema dict in the namespace); the validated object is the result's `output`.")
    @argument("-o", "--out", metavar="VAR", help="Store the answer in VAR: the validated object with --schema, "
              "else the text.")
    @cell_magic("claude")
    def claude_cell(self, line: str, cell: str) -> None:
        """Send the cell to Claude with the conversation so far; the answer streams below.

        Python values go into the prompt with $`name` or $`expression` (DataFrames and long values are
        summarized); `Err[-1]` is the notebook's last error, `In[n]` / `Out[n]` earlier cells.
        """
        from .views.waiting import paint_waiting

        arguments = _parse(self.claude_cell, line)
        text = cell.strip()
        if not text:
            raise UsageError("The cell is empty: write your prompt below the %%claude line.")
        paint_waiting(self.shell, self.model)      # a new kernel's first cell: the header now, before imports
        from .api import raise_for_result
        from .core.turn_settings import turn_settings
        from .notebook.prompt import build_prompt, split_specs

        code = arguments.code or arguments.format == "code"
        tools: tuple[str, ...] | None = None
        if arguments.no_tools:
            tools = ()
        elif arguments.tools:
            tools = tuple(name.strip() for name in arguments.tools.split(",") if name.strip())
        session = self.configured_session()
        try:
            if tools and session.toolbox is not None:
                session.toolbox.validate_names(tools)
            settings, options = turn_settings(
                session.settings, model=arguments.model, system=arguments.system,
                max_tokens=arguments.max_tokens, think=arguments.think, effort=arguments.effort,
                cache_ttl=arguments.cache_ttl, no_cache=arguments.no_cache, chat=arguments.chat,
                new=arguments.new, tools=tools, cell_id=_cell_id(self.shell), engine=arguments.engine,
                fresh=arguments.fresh, in_cell=True, web=arguments.web,
            )
        except ConfigurationError as error:
            raise UsageError(str(error)) from None
        spec = self._schema(arguments.schema) if arguments.schema else None
        if spec is not None:
            settings = settings.with_options(output_format=spec.format)
        if arguments.out is not None and not arguments.out.isidentifier():
            raise UsageError(f"--out takes a variable name, not {arguments.out!r}")
        if arguments.cite and not arguments.attach:
            raise UsageError("--cite cites attached documents: add --attach FILE (PDF or text)")
        prompt = build_prompt(text, self.shell, split_specs(arguments.attach), budget=settings.tool_result_budget,
                              cite=arguments.cite)
        if code:        # in the cell's own turn, not the system prompt: the cached prefix stays intact
            from .notebook.code_cells import with_code_instruction

            prompt = with_code_instruction(prompt)
        view = self._view(session)
        result = session.ask(prompt, settings=settings, options=options, emit=view)
        raise_for_result(result)
        if spec is not None:
            from .api import check_output

            check_output(result, spec)
        if arguments.out is not None:
            self.shell.user_ns[arguments.out] = result.output if spec is not None else result.text
        if code:
            self._insert_code(result.text, options.cell_id, cell)

    def _set_model(self, arguments: list[str]) -> None:
        """`%claude model NAME`: set the trait (checked as the command checks it); it reaches the session, as every
        trait does, through `configured_session`."""
        from .commands import checked_model_name, model_set
        from .core.model_names import resolve_model

        self.model = resolve_model(checked_model_name(arguments), dict(self.aliases))
        _show_text(model_set(self.configured_session()))

    def _schema(self, name: str) -> Any:
        """`--schema NAME`: the named (dotted) value from the namespace as an `OutputSpec`."""
        from .core.structured import output_spec

        head, *rest = name.split(".")
        if head not in self.shell.user_ns:
            raise UsageError(f"--schema: no variable named {head!r} in the namespace (define the model first)")
        value = self.shell.user_ns[head]
        for part in rest:
            if not hasattr(value, part):
                raise UsageError(f"--schema: {name!r} has no attribute {part!r}")
            value = getattr(value, part)
        try:
            return output_spec(value)
        except ConfigurationError as error:
            raise UsageError(f"--schema {name}: {error}") from None

    def _insert_code(self, answer: str, cell_id: str | None, cell: str) -> None:
        """Put the answer's code in a new cell below (once per cell; re-runs show it instead)."""
        from .notebook.code_cells import CodeInserter, extract_code

        if self._code_inserter is None:
            self._code_inserter = CodeInserter(self.shell)
        insertion = self._code_inserter.insert(extract_code(answer), cell_id=cell_id, cell_source=cell)
        if not insertion.inserted:
            _show_text(f"{insertion.note}\n\n```python\n{insertion.code}\n```")

    def fix(self, line: str = "") -> None:
        """`%claude fix [N]`: explain the notebook's last error (or Err[N]) and propose a corrected cell."""
        from .api import raise_for_result
        from .notebook.failed_cells import fix_prompt, tracker_for

        index = -1
        if line.strip():
            try:
                index = int(line.strip())
            except ValueError:
                raise UsageError("usage: %claude fix [N] — N picks an earlier error (-1 is the last)") from None
        prompt = fix_prompt(tracker_for(self.shell), index)
        session = self.configured_session()
        result = session.ask(prompt, emit=self._view(session))
        raise_for_result(result)


def _prices(table: dict[str, Any]) -> dict[str, Any]:
    """`ClaudeMagic.prices` as `Price` rows; a malformed row is a one-line error."""
    from .core.pricing import Price

    rows = {}
    for prefix, value in table.items():
        try:
            rows[prefix] = Price(*(float(number) for number in value))
        except (TypeError, ValueError):
            raise UsageError(f"ClaudeMagic.prices[{prefix!r}] must be [input, output] USD per million tokens, "
                             f"not {value!r}") from None
    return rows


def _parse(method: Any, line: str) -> Any:
    """argparse via magic_arguments; IPython keeps quotes around values, so they are removed here."""
    try:
        arguments = parse_argstring(method, line)
    except UsageError as error:
        raise UsageError(f"%%claude: {error}") from None
    for name, value in vars(arguments).items():
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            setattr(arguments, name, value[1:-1])
    return arguments


def _cell_id(shell: Any) -> str | None:
    """The running notebook cell's id, as IPython reports it (see `running_cell`)."""
    from .notebook.running_cell import running_cell_id

    return running_cell_id(shell)


def _show_text(text: str) -> None:
    """Show command output as Markdown in a notebook (with HTML, so a money `$` is never math), as text in a terminal."""
    from IPython.display import display

    from .views.render import markdown_bundle

    display(markdown_bundle(text), raw=True)


def cell_magic_help() -> str:
    """The `%%claude` option help (argparse's)."""
    return ClaudeMagic.claude_cell.__doc__ or ""


