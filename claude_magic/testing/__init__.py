"""A local HTTP server speaking the Anthropic Messages API, for tests and offline use.

```python
from claude_magic.testing import LocalServer, Reply, text, tool_use

with LocalServer() as server:
    server.queue(Reply(text("Hello!")))
    client = anthropic.Anthropic(base_url=server.base_url, api_key="test-key")
    ...
```

Web search and fetch are answered from `server.web` (a corpus the test fills: `web.py`, with `web_search`,
`web_fetch` and `cite` in replies); the Files API lives in `server.files` (`files.py`).

`python -m claude_magic.testing` runs one from the command line. Standard library only.
"""

from __future__ import annotations

from .caching import estimate_tokens
from .models import default_models
from .responder import echo_reply
from .script import (
    ApiError,
    Drop,
    Malformed,
    MidStreamError,
    Replay,
    Reply,
    Stall,
    block,
    redacted_thinking,
    text,
    thinking,
    tool_use,
)
from .server import LocalServer
from .signing import sign_thinking
from .state import RecordedRequest
from .web import cite, web_fetch, web_search

__all__ = [
    "ApiError",
    "Drop",
    "LocalServer",
    "Malformed",
    "MidStreamError",
    "RecordedRequest",
    "Replay",
    "Reply",
    "Stall",
    "block",
    "cite",
    "default_models",
    "echo_reply",
    "estimate_tokens",
    "redacted_thinking",
    "sign_thinking",
    "text",
    "thinking",
    "tool_use",
    "web_fetch",
    "web_search",
]
