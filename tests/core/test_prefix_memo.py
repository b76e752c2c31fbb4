"""`PrefixMemo`: a fold over a growing list does each item once, and starts again where a key was replaced."""

from __future__ import annotations

from typing import Any

from claude_magic.core.prefix_memo import PrefixMemo


def test_only_new_or_replaced_items_are_folded() -> None:
    seen: list[int] = []

    def step(total: int, index: int, item: dict[str, Any]) -> int:
        seen.append(index)
        return total + len(item["content"])

    memo: PrefixMemo[int] = PrefixMemo(step, 0)
    items = [{"content": ["a"] * number} for number in range(1, 6)]
    assert memo.fold(items, [item["content"] for item in items]) == 15 and seen == [0, 1, 2, 3, 4]
    items.append({"content": ["b"]})
    seen.clear()
    assert memo.fold(items, [item["content"] for item in items]) == 16 and seen == [5]
    items[2]["content"] = ["c"]                              # replaced, not changed in place: folded again from there
    seen.clear()
    assert memo.fold(items, [item["content"] for item in items]) == 14 and seen == [2, 3, 4, 5]
    seen.clear()
    assert memo.fold(items[:2], [item["content"] for item in items[:2]]) == 3 and seen == []
