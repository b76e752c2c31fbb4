"""Structured outputs on the local server: `output_config.format` checked like the API, and answers that fit the schema.

`check_output_config` refuses a malformed format or schema with a 400 in the API's wording;
`structured_reply` is the default answer when a format is requested: JSON that fits the schema, its
strings and numbers drawn from the prompt so that different prompts get different answers.
Queue `Reply('{"not": valid')` (any text) to script an answer that does not fit.
"""

from __future__ import annotations

import json
from typing import Any

from .script import Reply

__all__ = ["check_output_config", "sample_value", "structured_reply"]

_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
_WHERE = "output_config.format.schema"


class _Refusal(Exception):
    pass


def check_output_config(config: object) -> str | None:
    """The API's 400 message for a malformed `output_config` (None when it is fine)."""
    if config is None:
        return None
    if not isinstance(config, dict):
        return "output_config: Input should be a valid dictionary"
    fmt = config.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        return "output_config.format: Input should be a valid dictionary"
    if fmt.get("type") != "json_schema":
        return "output_config.format.type: Input should be 'json_schema'"
    schema = fmt.get("schema")
    if schema is None:
        return "output_config.format.schema: Field required"
    if not isinstance(schema, dict):
        return "output_config.format.schema: Input should be a valid dictionary"
    try:
        _check_schema(schema, schema, _WHERE)
    except _Refusal as refusal:
        return str(refusal)
    return None


def _check_schema(node: Any, root: dict[str, Any], where: str) -> None:
    if not isinstance(node, dict):
        raise _Refusal(f"{where}: a schema must be an object")
    for name, definition in (node.get("$defs") or {}).items():
        _check_schema(definition, root, f"{where}.$defs.{name}")
    if "$ref" in node:
        if _lookup(root, node["$ref"]) is None:
            raise _Refusal(f"{where}: $ref {node['$ref']!r} does not resolve to a definition in the schema")
        return
    for key in ("anyOf", "allOf"):
        for index, variant in enumerate(node.get(key) or []):
            _check_schema(variant, root, f"{where}.{key}.{index}")
    if "oneOf" in node:
        raise _Refusal(f"{where}: 'oneOf' is not supported; use 'anyOf'")
    kind = node.get("type")
    if kind is None:
        if not any(key in node for key in ("anyOf", "allOf", "enum", "const")):
            raise _Refusal(f"{where}: a schema needs a 'type', 'anyOf', 'allOf', 'enum' or 'const'")
        return
    kinds = kind if isinstance(kind, list) else [kind]
    for item in kinds:
        if item not in _TYPES:
            raise _Refusal(f"{where}.type: {item!r} is not a JSON Schema type")
    if "object" in kinds:
        if node.get("additionalProperties") is not False:
            raise _Refusal(f"{where}: For 'object' type, 'additionalProperties' must be explicitly set to false")
        properties = node.get("properties") or {}
        if not isinstance(properties, dict):
            raise _Refusal(f"{where}.properties: Input should be a valid dictionary")
        for name, prop in properties.items():
            _check_schema(prop, root, f"{where}.properties.{name}")
        for name in node.get("required") or []:
            if name not in properties:
                raise _Refusal(f"{where}.required: {name!r} is not one of the properties")
    if "array" in kinds and node.get("items") is not None:
        _check_schema(node["items"], root, f"{where}.items")


def _lookup(root: dict[str, Any], ref: object) -> dict[str, Any] | None:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target if isinstance(target, dict) else None


def sample_value(schema: dict[str, Any], root: dict[str, Any], said: str, depth: int = 0) -> Any:
    """A value that fits `schema`; strings echo `said`, numbers count its words."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return sample_value(_lookup(root, schema["$ref"]) or {}, root, said, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        options = schema["enum"]
        return options[len(said) % len(options)]
    if schema.get("anyOf"):
        return sample_value(schema["anyOf"][0], root, said, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for variant in schema["allOf"]:
            value = sample_value(variant, root, said, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    words = len(said.split())
    if kind == "object":
        return {name: sample_value(prop, root, said, depth + 1) for name, prop in (schema.get("properties") or {}).items()}
    if kind == "array":
        items = schema.get("items")
        return [sample_value(items, root, said, depth + 1)] if isinstance(items, dict) else []
    if kind == "string":
        fmt = schema.get("format")
        samples = {"date": "2026-01-01", "date-time": "2026-01-01T00:00:00Z", "time": "12:00:00", "email": "a@example.com",
                   "uri": "https://example.com", "uuid": "00000000-0000-4000-8000-000000000000"}
        return samples.get(fmt, " ".join(said.split())[:80])
    if kind == "integer":
        return words
    if kind == "number":
        return words / 2
    if kind == "boolean":
        return words % 2 == 0
    return None


def structured_reply(body: dict[str, Any], said: str) -> Reply | None:
    """The default answer to a request with `output_config.format`: JSON fitting its schema (None without a format)."""
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    if not isinstance(fmt, dict) or not isinstance(fmt.get("schema"), dict):
        return None
    schema = fmt["schema"]
    return Reply(json.dumps(sample_value(schema, schema, said), ensure_ascii=False))
