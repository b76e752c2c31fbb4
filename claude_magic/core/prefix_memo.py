"""A fold over a growing list, done once per item: the states of the longest unchanged prefix are kept.

A conversation grows at its end (a turn appends messages or replaces the last one's content; content lists are
replaced, never changed in place). So work over every message (a size, a search) can keep its state after each
message and, on the next request, start from the first message whose key (its content list) is not the same
object as before. Keeping the keys also keeps their ids from being reused.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["PrefixMemo"]

State = TypeVar("State")


class PrefixMemo(Generic[State]):
    """`fold(items, keys)`: `step(state, index, item)` over `items` from `initial`, memoized on the keys' identity."""

    def __init__(self, step: Callable[[State, int, Any], State], initial: State) -> None:
        self._step, self._initial = step, initial
        self._keys: list[Any] = []
        self._states: list[State] = []
        self._lock = threading.Lock()

    def fold(self, items: list[Any], keys: list[Any]) -> State:
        """The state after the last item (`initial` for none)."""
        with self._lock:
            matches = list(map(operator.is_, keys, self._keys))
            same = matches.index(False) if False in matches else len(matches)
            del self._keys[same:], self._states[same:]
            state = self._states[-1] if self._states else self._initial
            step = self._step
            for index in range(same, len(items)):
                state = step(state, index, items[index])
                self._keys.append(keys[index])
                self._states.append(state)
            return state
