"""Where no page can edit the notebook (a kernel driven by jupyter_client, like nbclient, papermill or VS Code),
the notebook tools are not offered, `%claude tools` says why, a turn that names one anyway gets a one-line
refusal, and everything else works as before."""

from __future__ import annotations

from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..kernel.kernel_driver import claude_kernel, texts

NOTEBOOK_TOOLS = {"read_notebook", "add_cell", "edit_cell", "run_cell"}


def test_notebook_tools_are_not_offered_without_the_extension(claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("Plain answer.")),
                        Reply(tool_use("add_cell", {"source": "x = 1"}, id="toolu_add")),
                        Reply(text("Could not add it.")))
    with claude_kernel(claude_server.base_url) as kernel:
        shown = texts(kernel.execute("%%claude\nHello?"))
        assert "Plain answer." in shown and "Traceback" not in shown
        offered = {tool["name"] for tool in claude_server.message_requests[0].get("tools", [])}
        assert "run_python" in offered and not offered & NOTEBOOK_TOOLS, offered

        listing = texts(kernel.execute("%claude tools"))
        assert "Not offered now" in listing and "`add_cell`" in listing and "no page answered" in listing, listing

        shown = texts(kernel.execute("%%claude\nAdd a cell."))     # a model that names the tool anyway
        assert "Could not add it." in shown and "Traceback" not in shown, shown
        result = claude_server.message_requests[-1]["messages"][-1]["content"][0]
        assert result["is_error"] and "could not be changed" in str(result["content"]), result
        assert "no page answered" in str(result["content"])
