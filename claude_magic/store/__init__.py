"""Persistence: each notebook's conversations saved beside it, restored in a new kernel for that notebook.

`attach_store(session, shell, setting)` finds the store for `ClaudeMagic.store` (beside the notebook by
default: `.claude_magic/NOTEBOOK.json`), restores it and saves after every turn. See `notebook_store`.
"""

from __future__ import annotations

from .document import STORE_FORMAT, STORE_VERSION, StoreUnreadable
from .location import notebook_path, store_path
from .notebook_store import NotebookStore, attach_store, detach_store

__all__ = ["NotebookStore", "attach_store", "detach_store", "notebook_path", "store_path", "StoreUnreadable",
           "STORE_FORMAT", "STORE_VERSION"]
