"""Every key binding, with a stable id users can remap in the config's ``[keymap]``."""

from __future__ import annotations

from textual.binding import Binding

APP_BINDINGS = [
    Binding("f1", "help", "Help", id="app.help"),
    Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    Binding("ctrl+t", "change_theme", "Theme", id="app.theme", show=False),
]

CHAT_BINDINGS = [
    Binding("ctrl+n", "new_conversation", "New", id="conversation.new", priority=True),
    Binding("alt+up,ctrl+pageup", "previous_conversation", "Previous conversation", id="conversation.previous", priority=True, show=False),
    Binding("alt+down,ctrl+pagedown", "next_conversation", "Next conversation", id="conversation.next", priority=True, show=False),
    Binding("ctrl+l", "focus_sidebar", "Sidebar", id="focus.sidebar", priority=True, show=False),
    Binding("ctrl+g", "focus_input", "Type", id="focus.input", priority=True, show=False),
    Binding("ctrl+f", "search", "Search", id="conversation.search", priority=True),
    Binding("f2", "rename", "Rename", id="conversation.rename"),
    Binding("f8", "delete", "Delete", id="conversation.delete"),
    Binding("ctrl+s", "export", "Export", id="conversation.export", priority=True, show=False),
    Binding("escape", "stop", "Stop", id="chat.stop"),
    Binding("ctrl+r", "regenerate", "Regenerate", id="chat.regenerate", priority=True, show=False),
    Binding("ctrl+up", "edit_last", "Edit last message", id="chat.edit_last", priority=True, show=False),
    Binding("f4", "copy_answer", "Copy answer", id="chat.copy_answer", show=False),
    Binding("f6", "copy_code", "Copy code block", id="chat.copy_code", show=False),
    Binding("f9", "toggle_web_search", "Web search", id="chat.web_search", show=False),
    Binding("ctrl+o", "toggle_thinking", "Thinking", id="message.toggle_thinking", show=False),
    Binding("ctrl+b", "toggle_sidebar", "Toggle sidebar", id="app.toggle_sidebar", priority=True, show=False),
]

#: Binding ids a config's [keymap] may name.
def known_ids() -> set[str]:
    from hailuo_tui.widgets.prompt_input import PromptInput

    ids = {b.id for b in APP_BINDINGS + CHAT_BINDINGS if b.id}
    ids |= {b.id for b in PromptInput.BINDINGS if isinstance(b, Binding) and b.id}
    return ids
