"""A redrawn turn shows again the figures its tools sent Claude (they are in the tool results)."""

from __future__ import annotations

import base64

from claude_magic.core.conversation import Conversation, TurnRecord
from claude_magic.views.static import static_html
from claude_magic.views.turn_history import turn_records, turn_transcript

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5f6a5b90000000049454e44ae426082")).decode()


def test_figures_sent_to_claude_are_drawn_on_the_redrawn_tool_card() -> None:
    conversation = Conversation("plots")
    conversation.messages = [
        {"role": "user", "content": [{"type": "text", "text": "Plot it"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "run_python",
                                           "input": {"code": "plt.plot([1, 2])"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
            {"type": "text", "text": "[<matplotlib.lines.Line2D>]"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/x.png"}},
        ]}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Here is the line."}]},
    ]
    conversation.turns = [TurnRecord(id="one", prompt="Plot it", model="claude-sonnet-5-5", start=0, end=4,
                                     status="complete", stop_reason="end_turn")]
    [(record, messages)] = turn_records(conversation)
    transcript = turn_transcript(record, messages)
    tool = transcript.parts[0]
    assert tool.tool_display == ({"image/png": PNG},)            # the URL image is not fetched
    html = static_html(transcript)
    assert f'src="data:image/png;base64,{PNG}"' in html
    assert "example.com" not in html
    assert html.index("run_python") < html.index("data:image/png") < html.index("Here is the line.")
