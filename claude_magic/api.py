"""The Python API (`claude_magic.ask`): the configured session, its view, and a turn's result checked (`turn_settings` lives in core)."""

from __future__ import annotations

from typing import Any

from .core.errors import ClaudeMagicError, TurnInterrupted
from .core.results import TurnResult
from .core.turn_settings import turn_settings
from .session import get_session

__all__ = ["ask", "configured_session", "turn_settings", "raise_for_result", "check_output"]


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


def _magic() -> Any:
    """The loaded `ClaudeMagic` instance, if the extension is loaded in IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell.magics_manager.registry.get("ClaudeMagic") if shell is not None else None


def configured_session() -> Any:
    """The session, with `%config ClaudeMagic...` pushed into it when the extension is loaded in IPython."""
    from .views.result_display import show_results_richly

    show_results_richly()
    magic = _magic()
    return magic.configured_session() if magic is not None else get_session()


def ask(prompt: str | list[dict[str, Any]], *, display: bool | None = None, raise_errors: bool = True,
        output: Any = None, **options: Any) -> TurnResult:
    """Ask Claude in the kernel's conversation; streams into the notebook/terminal when there is one.

    `output` (a pydantic model, dataclass, TypedDict or JSON-schema dict) asks for a structured answer,
    validated into `result.output`.
    """
    session = configured_session()
    settings, turn_options = turn_settings(session.settings, **options)
    spec = None
    if output is not None:
        from .core.structured import output_spec

        spec = output_spec(output)
        settings = settings.with_options(output_format=spec.format)
    view = None
    if display is not False:
        from .views.select import session_view

        view = session_view(session)
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
