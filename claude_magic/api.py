"""The Python API (`claude_magic.ask`) and the option mapping shared with the magics."""

from __future__ import annotations

from typing import Any

from .core.errors import ClaudeMagicError, ConfigurationError, TurnInterrupted
from .core.results import TurnResult
from .core.settings import CACHE_TTLS, EFFORT_LEVELS, ENGINE_NAMES, Settings, TurnOptions, check_choice
from .session import get_session

__all__ = ["ask", "turn_settings", "raise_for_result", "check_output"]


def turn_settings(base: Settings, *, model: str | None = None, system: str | None = None,
                  max_tokens: int | None = None, think: str | int | None = None,
                  effort: str | None = None, cache_ttl: str | None = None, no_cache: bool = False,
                  chat: str | None = None, new: bool = False, tools: tuple[str, ...] | None = None,
                  cell_id: str | None = None, engine: str | None = None, fresh: bool = False,
                  in_cell: bool = False) -> tuple[Settings, TurnOptions]:
    """Validate per-turn options and apply them over the session defaults."""
    check_choice("engine", engine, ENGINE_NAMES)
    if max_tokens is not None and max_tokens < 1:
        raise ConfigurationError(f"max_tokens must be a positive integer, not {max_tokens}")
    check_choice("effort", effort, EFFORT_LEVELS)
    if think is not None and think != "adaptive":
        try:
            think = int(think)
        except (TypeError, ValueError):
            raise ConfigurationError(f"--think takes no value (adaptive) or a token budget such as 4000, "
                                     f"not {think!r}") from None
    check_choice("cache ttl", cache_ttl, CACHE_TTLS)
    if model is not None and not model.strip():
        raise ConfigurationError("the model name is empty")
    if effort is not None and think is None and base.thinking is None:
        think = "adaptive"          # so there is (summarized) thinking to show for the effort spent
    settings = base.with_options(model=model, system=system, max_tokens=max_tokens, thinking=think,
                                 effort=effort, cache_ttl=cache_ttl, engine=engine)
    if no_cache:
        settings = settings.with_options(cache=False)
    options = TurnOptions(conversation=chat or "", new=new, cell_id=cell_id, tools=tools, fresh=fresh,
                          in_cell=in_cell)
    return settings, options


def raise_for_result(result: TurnResult) -> None:
    """Raise the one-line error of a turn that did not complete (so Run All stops there)."""
    error: ClaudeMagicError | None = None
    if result.status == "interrupted":
        error = TurnInterrupted()
    elif result.status in ("error", "cut_off") and result.error:
        error = ClaudeMagicError(result.error)
    if error is not None:
        error.result = result  # type: ignore[attr-defined]
        raise error


def _view() -> Any:
    """The view for the current front end, honouring `%config ClaudeMagic.live_view/thinking_open`."""
    from .views.select import make_view

    magic = _magic()
    if magic is not None:
        return magic._view()
    return make_view()


def _magic() -> Any:
    """The loaded `ClaudeMagic` instance, if the extension is loaded in IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell.magics_manager.registry.get("ClaudeMagic") if shell is not None else None


def _configured_session() -> Any:
    """The session, with `%config ClaudeMagic...` applied when the extension is loaded in IPython."""
    magic = _magic()
    return magic._session() if magic is not None else get_session()


def ask(prompt: str | list[dict[str, Any]], *, display: bool | None = None, raise_errors: bool = True,
        output: Any = None, **options: Any) -> TurnResult:
    """Ask Claude in the kernel's conversation; streams into the notebook/terminal when there is one.

    `output` (a pydantic model, dataclass, TypedDict or JSON-schema dict) asks for a structured answer,
    validated into `result.output`.
    """
    session = _configured_session()
    settings, turn_options = turn_settings(session.settings, **options)
    spec = None
    if output is not None:
        from .core.structured import output_spec

        spec = output_spec(output)
        settings = settings.with_options(output_format=spec.format)
    view = None
    if display is not False:
        view = _view()
    result = session.ask(prompt, settings=settings, options=turn_options, emit=view)
    if raise_errors:
        raise_for_result(result)
    if spec is not None:
        check_output(result, spec, raise_errors=raise_errors)
    return result


def check_output(result: TurnResult, spec: Any, *, raise_errors: bool = True) -> None:
    """Validate a structured answer into `result.output`; a misfit raises one line (the turn and its text stay)."""
    from .core.structured import StructuredOutputError, apply_output

    apply_output(result, spec)
    if result.output_error and raise_errors:
        error = StructuredOutputError(result.output_error)
        error.result = result  # type: ignore[attr-defined]
        raise error
