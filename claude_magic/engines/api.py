"""The Messages-API engine: the SDK client and the agent loop of `api_loop.py` behind the seam."""

from __future__ import annotations

from ..client import ClientFactory
from ..results import TurnResult
from ..settings import Settings
from .api_loop import continue_turn, run_turn
from .base import TurnRequest

__all__ = ["ApiEngine", "credential_label"]


def credential_label(settings: Settings) -> str:
    """A short, secret-free label of the API credential these settings use ("" if none resolves)."""
    try:
        from ..credentials import resolve_api_credential
    except ImportError:
        resolve_api_credential = None
    if resolve_api_credential is not None:
        info = resolve_api_credential(settings)
        return info.label if info is not None else ""
    import os

    for variable, kind in (("ANTHROPIC_API_KEY", "API key"), ("ANTHROPIC_AUTH_TOKEN", "auth token")):
        if os.environ.get(variable):
            return f"{kind} from {variable}"
    return ""


class ApiEngine:
    """Turns answered by the Messages API through the `anthropic` SDK."""

    name = "api"

    def __init__(self, clients: ClientFactory) -> None:
        self.clients = clients

    def run_turn(self, request: TurnRequest) -> TurnResult:
        client = self.clients.get(request.settings)
        return run_turn(
            client=client, conversation=request.conversation, prompt=request.prompt,
            prompt_text=request.prompt_text, settings=request.settings, toolbox=request.toolbox,
            tool_names=request.tool_names, emit=request.emit, cancellation=request.cancellation,
            cell_id=request.cell_id, prices=request.prices, catalog=request.catalog,
            tool_context=request.tool_context, credential=credential_label(request.settings),
        )

    def continue_turn(self, request: TurnRequest, result: TurnResult) -> None:
        """Go on with a replayed turn from its (changed) tool results: real requests from here on."""
        continue_turn(
            client=self.clients.get(request.settings), conversation=request.conversation,
            settings=request.settings, toolbox=request.toolbox, tool_names=request.tool_names, emit=request.emit,
            result=result, cancellation=request.cancellation, tool_context=request.tool_context,
            catalog=request.catalog,
        )
        result.credential = credential_label(request.settings)

    def close(self) -> None:
        return None
