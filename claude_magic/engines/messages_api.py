"""The Messages-API engine: the SDK client and the agent loop of `api_loop.py` behind the seam."""

from __future__ import annotations

from ..core.results import TurnResult
from ..core.settings import Settings
from ..transport.client import ClientFactory
from .api_loop import continue_turn, run_turn
from .base import TurnRequest

__all__ = ["ApiEngine", "credential_label"]


def credential_label(settings: Settings) -> str:
    """A short, secret-free label of the API credential these settings use ("" if none resolves)."""
    from ..transport.credentials import resolve_api_credential

    info = resolve_api_credential(settings)
    return info.label if info is not None else ""


class ApiEngine:
    """Turns answered by the Messages API through the `anthropic` SDK."""

    name = "api"

    def __init__(self, clients: ClientFactory) -> None:
        self.clients = clients

    def run_turn(self, request: TurnRequest) -> TurnResult:
        return run_turn(self.clients.get(request.settings), request, credential_label(request.settings))

    def continue_turn(self, request: TurnRequest, result: TurnResult) -> None:
        """Go on with a replayed turn from its (changed) tool results: real requests from here on."""
        continue_turn(self.clients.get(request.settings), request, result)
        result.credential = credential_label(request.settings)

    def close(self) -> None:
        return None
