"""Structured answers: a schema (pydantic model, dataclass, TypedDict or JSON-schema dict) to `output_config.format`, and the answer back to a validated object.

The request parameter comes from the SDK's own transform (`to_json_output_format` / `transform_schema`,
the code behind `messages.parse(output_format=...)`); types are validated with pydantic's `TypeAdapter`
like the SDK's `parse_text`. A JSON-schema dict is checked by a small validator of the subset of JSON
Schema that structured outputs support.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ClaudeMagicError, ConfigurationError

__all__ = ["OutputSpec", "StructuredOutputError", "output_spec", "apply_output", "final_text", "schema_problems"]


class StructuredOutputError(ClaudeMagicError):
    """The answer does not fit the requested schema (the raw text is kept in the result)."""


@dataclass(frozen=True, eq=False)
class OutputSpec:
    """A requested answer shape: the `output_config.format` parameter and how to validate an answer."""

    name: str                       # shown in messages: the model's name or "schema"
    format: dict[str, Any]          # {"type": "json_schema", "schema": {...}}
    target: Any = None              # the type to validate into (None for a JSON-schema dict)
    schema: dict[str, Any] | None = None   # the user's JSON-schema dict (None for a type)

    @property
    def fields(self) -> list[str]:
        """Top-level field names of an object answer ([] when the answer is not an object)."""
        schema = self.format["schema"]
        root = _resolve(schema, schema)
        return list(root.get("properties", {})) if root.get("type") == "object" else []

    def validate(self, text: str) -> Any:
        """The validated object for an answer's text; `StructuredOutputError` (one line) when it does not fit."""
        if self.target is not None:
            return self._validate_type(text)
        try:
            value = json.loads(text)
        except ValueError as error:
            raise StructuredOutputError(f"the answer is not valid JSON ({error})") from None
        problems = schema_problems(value, self.schema or {})
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise StructuredOutputError(f"the answer does not fit the schema: {problems[0]}{more}")
        return value

    def _validate_type(self, text: str) -> Any:
        import pydantic

        try:
            return _adapter(self.target).validate_json(text)
        except pydantic.ValidationError as error:
            errors = error.errors(include_url=False)
            first = errors[0] if errors else {"loc": (), "msg": str(error)}
            if first.get("type") == "json_invalid":
                raise StructuredOutputError(f"the answer is not valid JSON ({first.get('msg')})") from None
            where = ".".join(str(part) for part in first.get("loc", ())) or "(root)"
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise StructuredOutputError(f"the answer is not a valid {self.name}: {where}: {first.get('msg')}{more}") from None

    def to_plain(self, value: Any) -> Any:
        """A validated object as plain JSON-like data (for tables and journals)."""
        if value is None:
            return None
        if hasattr(value, "model_dump"):
            return value.model_dump(mode="json")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        return value

    def from_plain(self, value: Any) -> Any:
        """Inverse of `to_plain` (validated again into the target type)."""
        if self.target is None or value is None:
            return value
        return _adapter(self.target).validate_python(value)


_adapters: dict[Any, Any] = {}


def _adapter(target: Any) -> Any:
    """A cached `pydantic.TypeAdapter` for `target`."""
    adapter = _adapters.get(target)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _adapters[target] = TypeAdapter(target)
    return adapter


def output_spec(value: Any) -> OutputSpec:
    """The spec for a pydantic model, dataclass, TypedDict (any type pydantic can validate) or a JSON-schema dict."""
    if isinstance(value, OutputSpec):
        return value
    if isinstance(value, Mapping):
        return _dict_spec(dict(value))
    if not isinstance(value, type) and not hasattr(value, "__origin__"):
        raise ConfigurationError(f"output must be a pydantic model, a dataclass, a TypedDict or a JSON-schema dict, "
                                 f"not {type(value).__name__}")
    import pydantic
    from anthropic import transform_schema

    try:   # what `client.messages.parse(output_format=...)` sends: pydantic's schema, made strict by the SDK
        schema = transform_schema(pydantic.TypeAdapter(value).json_schema())
    except (TypeError, ValueError, pydantic.errors.PydanticErrorMixin) as error:
        raise ConfigurationError(f"cannot make a JSON schema from {_name(value)}: {str(error).splitlines()[0]}") from None
    return OutputSpec(name=_name(value), format={"type": "json_schema", "schema": schema}, target=value)


def _dict_spec(schema: dict[str, Any]) -> OutputSpec:
    from anthropic import transform_schema

    if not schema:
        raise ConfigurationError("the JSON schema is empty")
    try:
        transformed = transform_schema(schema)
    except (TypeError, ValueError, AttributeError) as error:
        raise ConfigurationError(f"not a usable JSON schema: {str(error).splitlines()[0]}") from None
    return OutputSpec(name=str(schema.get("title") or "schema"), format={"type": "json_schema", "schema": transformed},
                      schema=schema)


def _name(value: Any) -> str:
    return getattr(value, "__name__", None) or repr(value)


def final_text(result: Any) -> str:
    """The text of a turn's last API response (the structured answer), or all its text if none arrived."""
    message = getattr(result, "message", None)
    if message is not None:
        texts = [block.text for block in message.content if getattr(block, "type", None) == "text"]
        if texts:
            return "".join(texts)
    return result.text


def apply_output(result: Any, spec: OutputSpec) -> None:
    """Validate a completed turn's answer into `result.output`; on failure set `result.output_error` (one line)."""
    if not result.ok:
        return
    try:
        result.output = spec.validate(final_text(result))
    except StructuredOutputError as error:
        result.output = None
        result.output_error = (f"{str(error)[0].upper()}{str(error)[1:]}. The raw text is kept "
                               "(`claude_magic.get_session().last.text`).")


# --- the JSON Schema subset structured outputs support --------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` ("#/$defs/Name" or "#/definitions/Name")."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        path = str(node["$ref"]).removeprefix("#/").split("/")
        target: Any = root
        for part in path:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}


def _is_type(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def schema_problems(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
                    where: str = "(root)") -> list[str]:
    """Where `value` breaks `schema` (types, properties, required, additionalProperties, enum, const, items, anyOf, allOf)."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']!r}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} is not {schema['const']!r}"]
    if "anyOf" in schema or "oneOf" in schema:
        variants = schema.get("anyOf") or schema.get("oneOf") or []
        if not any(not schema_problems(value, variant, root, where) for variant in variants):
            return [f"{where}: {value!r} matches none of the allowed shapes"]
    for variant in schema.get("allOf") or []:
        problems += schema_problems(value, variant, root, where)
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(_is_type(value, k) for k in kinds):
        return [f"{where}: expected {' or '.join(kinds)}, got {type(value).__name__}"]
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                problems.append(f"{_join(where, name)}: missing")
        for name, item in value.items():
            if name in properties:
                problems += schema_problems(item, properties[name], root, _join(where, name))
            elif schema.get("additionalProperties") is False:
                problems.append(f"{_join(where, name)}: not allowed (additionalProperties is false)")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += schema_problems(item, schema["items"], root, _join(where, str(index)))
    return problems


def _join(where: str, name: str) -> str:
    return name if where == "(root)" else f"{where}.{name}"
