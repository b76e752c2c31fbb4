"""The registry: @tool in its forms, schemas from the SDK, stable order, policies, config, the listing."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel

import claude_magic.tools as tools_package
from claude_magic.core.errors import ConfigurationError
from claude_magic.tools import Tool, Toolbox, ToolDefinitionError, apply_config, default_toolbox, describe_tools, tool
from claude_magic.tools.builtins import BUILTIN_NAMES


def test_bare_decorator_keeps_the_function_and_derives_the_schema(toolbox: Toolbox) -> None:
    @toolbox.tool
    def weather(city: str, unit: Literal["c", "f"] = "c", days: int = 1) -> str:
        """Get the weather forecast for a city.

        Args:
            city: The city name, e.g. "Paris".
            unit: Temperature unit.
            days: How many days ahead.
        """
        return f"{city}: sunny"

    assert weather("Oslo") == "Oslo: sunny"  # still a plain function
    [definition] = toolbox.definitions()
    assert definition["name"] == "weather"
    assert definition["description"] == "Get the weather forecast for a city."
    schema = definition["input_schema"]
    assert schema["required"] == ["city"]
    assert schema["properties"]["city"]["description"] == 'The city name, e.g. "Paris".'
    assert schema["properties"]["unit"]["enum"] == ["c", "f"]
    assert schema["properties"]["days"]["type"] == "integer"


def test_decorator_with_arguments(toolbox: Toolbox) -> None:
    @toolbox.tool(name="lookup-user", description="Find a user by id.", consent="ask")
    def find(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    item = toolbox["lookup-user"]
    assert item.consent == "ask" and item.function is find
    assert item.definition["description"] == "Find a user by id."


class Order(BaseModel):
    item: str
    quantity: int = 1


def test_pydantic_model_parameters_work(toolbox: Toolbox) -> None:
    @toolbox.tool
    def place(order: Order) -> str:
        """Place an order."""
        return f"{order.quantity} x {order.item}"

    assert toolbox["place"].call({"order": {"item": "tea"}}) == "1 x tea"
    assert toolbox["place"].definition["input_schema"]["$defs"]["Order"]["required"] == ["item"]


def test_async_functions_are_detected(toolbox: Toolbox) -> None:
    @toolbox.tool
    async def fetch(url: str) -> str:
        """Fetch a URL."""
        return url

    assert toolbox["fetch"].is_async


def test_a_function_without_docstring_gets_a_description(toolbox: Toolbox) -> None:
    def plain(a: int, b: str = "x"):  # no docstring, no return hint
        return a

    toolbox.add(Tool(plain))
    assert toolbox["plain"].definition["description"] == "Call the Python function plain(a: int, b: str = 'x')."


def test_bad_names_and_unusable_hints_fail_where_the_tool_is_defined(toolbox: Toolbox) -> None:
    with pytest.raises(ToolDefinitionError, match="tool name must be"):
        toolbox.tool(lambda x: x)

    class Opaque:
        pass

    def takes_opaque(thing: Opaque) -> str:
        """Takes something without a schema."""
        return ""

    with pytest.raises(ToolDefinitionError, match="Cannot make a tool from takes_opaque"):
        toolbox.tool(takes_opaque)
    with pytest.raises(ConfigurationError):
        toolbox.tool(consent="maybe")


def test_order_is_stable_and_redefinition_replaces_in_place(toolbox: Toolbox) -> None:
    for name in ("c", "a", "b"):
        toolbox.tool(name=name)(lambda: "x")
    first = json.dumps(toolbox.definitions())
    toolbox.tool(name="a", description="A new description.")(lambda: "again")
    assert toolbox.names() == ["c", "a", "b"]
    assert json.dumps(toolbox.definitions()) != first
    assert [d["name"] for d in toolbox.definitions(("b", "c"))] == ["c", "b"]
    assert toolbox.definitions(()) == []
    assert toolbox.definitions(("nope",)) == []
    toolbox.remove("a")
    assert toolbox.names() == ["c", "b"]


def test_definitions_are_copies(toolbox: Toolbox) -> None:
    toolbox.tool(name="t")(lambda: None)
    toolbox.definitions()[0]["name"] = "changed"
    assert toolbox.definitions()[0]["name"] == "t"


def test_validate_names_reports_typos(toolbox: Toolbox) -> None:
    toolbox.tool(name="alpha")(lambda: None)
    toolbox.validate_names(["alpha"])
    with pytest.raises(ConfigurationError, match="unknown tool.*alfa.*available: alpha"):
        toolbox.validate_names(["alfa"])


def test_apply_config_sets_policies_and_disabled_tools(toolbox: Toolbox) -> None:
    toolbox.tool(name="one")(lambda: None)
    toolbox.tool(name="two", consent="ask")(lambda: None)
    apply_config(toolbox, {"one": "deny", "later": "allow"}, ["two"])
    assert toolbox.policy("one") == "deny" and toolbox.policy("two") == "ask"
    assert toolbox.policy("later") == "allow"  # names may be registered after the config
    assert [d["name"] for d in toolbox.definitions()] == ["one"]
    with pytest.raises(ConfigurationError, match="for tool 'one'"):
        apply_config(toolbox, {"one": "never"})
    apply_config(toolbox, disabled=[])
    assert len(toolbox.definitions()) == 2


def test_default_toolbox_holds_the_builtins_and_global_tool_registers_there() -> None:
    box = default_toolbox()
    assert box is default_toolbox()
    assert list(BUILTIN_NAMES) == box.names()[: len(BUILTIN_NAMES)]

    @tool
    def registry_test_tool() -> str:
        """Registered globally."""
        return "ok"

    try:
        assert box["registry_test_tool"].function is registry_test_tool
        assert box.policy("run_python") == "ask" and box.policy("list_variables") == "allow"
    finally:
        box.remove("registry_test_tool")



def test_tool_with_an_empty_toolbox_registers_there_not_in_the_default_one() -> None:
    box = Toolbox()            # empty, so falsy: `toolbox or default_toolbox()` would pick the kernel's

    @tool(toolbox=box)
    def only_here() -> str:
        """Registered in `box`."""
        return "ok"

    assert box.names() == ["only_here"]
    assert "only_here" not in default_toolbox().names()

def test_describe_tools_lists_policies_and_schemas(toolbox: Toolbox) -> None:
    assert "No tools are registered" in describe_tools(toolbox)

    @toolbox.tool(consent="ask")
    async def search(query: str) -> str:
        """Search the docs | carefully.

        Args:
            query: What to look for.
        """
        return query

    toolbox.tool(name="hidden")(lambda: None)
    toolbox.configure(disabled=["hidden"])
    listing = describe_tools(toolbox)
    assert "| `search` | ask | yes | user, async | Search the docs &#124; carefully. |" in listing
    assert "| `hidden` | allow | no (disabled) | user |" in listing
    assert "### `search`" in listing and '"query"' in listing and "What to look for." in listing
    assert "### `search`" not in describe_tools(toolbox, schemas=False)


def test_public_names() -> None:
    assert set(tools_package.__all__) == {
        "tool", "Tool", "Toolbox", "ToolContext", "ToolCall", "ToolOutput", "MimeBundle", "default_toolbox",
        "describe_tools", "apply_config", "Policy", "POLICIES", "ConsentUnavailable", "ToolDefinitionError",
    }
    for name in tools_package.__all__:
        assert getattr(tools_package, name) is not None
