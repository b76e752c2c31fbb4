"""A hand-written stdio JSON-RPC server whose tool answers are malformed (for the tests; no mcp package used)."""

from __future__ import annotations

import json
import os
import sys

TOOLS = [
    {"name": "garbled", "description": "Answers with a result that is not a CallToolResult.",
     "inputSchema": {"type": "object", "properties": {}}},
    {"name": "bad_image", "description": "Answers with an image whose data is not base64.",
     "inputSchema": {"type": "object", "properties": {}}},
] + ([{"name": "bad_schema", "description": "Its input schema is not an object schema.",
        "inputSchema": {"type": "array"}}] if os.environ.get("RAW_BAD_SCHEMA") else [])


def answer(message_id: object, result: object) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "result": result}) + "\n")
    sys.stdout.flush()


def error(message_id: object, code: int, text: str) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": text}}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    method, message_id = request.get("method"), request.get("id")
    if message_id is None:
        continue                                    # a notification
    if method == "initialize":
        answer(message_id, {"protocolVersion": request["params"]["protocolVersion"],
                            "capabilities": {"tools": {}}, "serverInfo": {"name": "raw", "version": "1"}})
    elif method == "tools/list":
        answer(message_id, {"tools": TOOLS})
    elif method == "tools/call" and request["params"]["name"] == "garbled":
        answer(message_id, {"content": "this should have been a list of content blocks"})
    elif method == "tools/call" and request["params"]["name"] == "bad_image":
        answer(message_id, {"content": [{"type": "image", "data": "%%% not base64 %%%", "mimeType": "image/png"},
                                        {"type": "text", "text": "see the image"}]})
    elif method == "ping":
        answer(message_id, {})
    else:
        error(message_id, -32601, f"Method not found: {method}")
