"""Every key binding, with a stable id users can remap in the config's ``[keymap]``.

Key names shown to the user (the command palette, F1) are built here from the
bindings and the user's keymap, so a remapped key shows its new name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, key_to_character

from hailuo_tui.config import KEY_MODIFIERS

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
    # Was "focus.messages": a user's [keymap] may still name the old id (config.RENAMED_BINDING_IDS).
    Binding("f5", "focus_messages", "Messages (a cursor on them)", id="messages.focus", priority=True, show=False),
    # Priority: from the message box these scroll the transcript (the TextArea would move its cursor);
    # elsewhere (the sidebar, the search box) the actions step aside for the focused widget, and with the
    # transcript focused Home and End go on to the message cursor's `message.first` / `message.last`.
    Binding("pageup", "messages_page_up", "Page up", id="messages.page_up", priority=True, show=False),
    Binding("pagedown", "messages_page_down", "Page down", id="messages.page_down", priority=True, show=False),
    Binding("home", "messages_first", "First message", id="messages.first", priority=True, show=False),
    Binding("end", "messages_last", "Last message", id="messages.last", priority=True, show=False),
    Binding("ctrl+f", "search", "Search", id="conversation.search", priority=True),
    Binding("f2", "rename", "Rename", id="conversation.rename"),
    Binding("f3", "pick_model", "Model", id="conversation.model"),
    # Priority: the message box (a TextArea) takes F7 for "select all" otherwise.
    Binding("f7", "edit_system_prompt", "System prompt", id="conversation.system_prompt", priority=True, show=False),
    Binding("f8", "delete", "Delete", id="conversation.delete"),
    Binding("ctrl+s", "export", "Export", id="conversation.export", priority=True, show=False),
    Binding("alt+s", "export_branches", "Export every branch", id="conversation.export_branches", priority=True,
            show=False),
    Binding("escape", "stop", "Stop", id="chat.stop"),
    # Priority over the TextArea's copy. A mouse selection is copied first (the answer goes on); with none
    # and no answer streaming the key goes on to Textual's own binding.
    Binding("ctrl+c", "interrupt", "Stop", id="chat.interrupt", priority=True, show=False),
    Binding("ctrl+r", "regenerate", "Regenerate", id="chat.regenerate", priority=True, show=False),
    Binding("ctrl+up", "edit_last", "Edit last message", id="chat.edit_last", priority=True, show=False),
    Binding("f4", "copy_answer", "Copy answer", id="chat.copy_answer", show=False),
    # Priority: the message box (a TextArea) takes F6 for "select line" otherwise.
    Binding("f6", "copy_code", "Copy code block", id="chat.copy_code", priority=True, show=False),
    Binding("f9", "toggle_web_search", "Web search", id="chat.web_search", show=False),
    # Priority: the message box would type the digit otherwise (Alt+digit arrives as ESC + digit in some terminals).
    Binding("alt+1", "follow_up(1)", "Send suggestion 1", id="chat.follow_up_1", priority=True, show=False),
    Binding("alt+2", "follow_up(2)", "Send suggestion 2", id="chat.follow_up_2", priority=True, show=False),
    Binding("alt+3", "follow_up(3)", "Send suggestion 3", id="chat.follow_up_3", priority=True, show=False),
    Binding("ctrl+o", "toggle_thinking", "Thinking", id="message.toggle_thinking", priority=True, show=False),
    Binding("ctrl+b", "toggle_sidebar", "Toggle sidebar", id="app.toggle_sidebar", priority=True, show=False),
    # The demo's empty conversation offers example prompts (screens/chat_actions.py EXAMPLE_PROMPTS).
    # Alt+letter, not Alt+digit: Textual reads ESC+digit as the macOS Option characters (¡, ™, £, ¢).
    *(
        Binding(key, f"send_example({n})", f"Send example {n} (demo)", id=f"chat.example_{n}",
                priority=True, show=False)
        for n, key in enumerate(("alt+p", "alt+e", "alt+m", "alt+c"), 1)
    ),
]


MESSAGE_BINDINGS = [
    Binding("up,k", "message_previous", "Previous message", id="message.previous", show=False),
    Binding("down,j", "message_next", "Next message", id="message.next", show=False),
    Binding("home", "message_first", "First message (cursor)", id="message.first", show=False),
    Binding("end", "message_last", "Last message (cursor)", id="message.last", show=False),
    Binding("shift+up,left_square_bracket", "block_previous", "Previous block of the message",
            id="message.block_previous", show=False),
    Binding("shift+down,right_square_bracket", "block_next", "Next block of the message",
            id="message.block_next", show=False),
    Binding("c", "message_copy", "Copy (Markdown, or the block)", id="message.copy", show=False),
    Binding("y", "message_copy_text", "Copy as plain text", id="message.copy_text", show=False),
    Binding("e", "message_edit", "Edit and resend", id="message.edit", show=False),
    Binding("r", "message_regenerate", "Regenerate the answer", id="message.regenerate", show=False),
    Binding("d,delete", "message_delete", "Delete the message", id="message.delete", show=False),
    Binding("f", "message_fork", "Fork into a new conversation", id="message.fork", show=False),
    Binding("left,h", "message_version_previous", "Previous version", id="message.version_previous",
            show=False),
    Binding("right,l", "message_version_next", "Next version", id="message.version_next", show=False),
]
"""The transcript's own keys (on `ChatView`): they act only while the transcript has focus, on the
message under its cursor, so they are not priority bindings and never take a key from the message box."""


def prompt_bindings() -> list[Binding]:
    """The prompt's bindings that have an id (declared on `PromptInput`)."""
    from hailuo_tui.widgets.prompt_input import PromptInput

    return [b for b in PromptInput.BINDINGS if isinstance(b, Binding) and b.id]


def known_ids() -> set[str]:
    """Binding ids a config's [keymap] may name."""
    return {b.id for b in [*APP_BINDINGS, *CHAT_BINDINGS, *MESSAGE_BINDINGS, *prompt_bindings()] if b.id}


def binding(binding_id: str) -> Binding:
    """The binding with this id.

    Raises:
        KeyError: No binding has this id.
    """
    for candidate in [*APP_BINDINGS, *CHAT_BINDINGS, *MESSAGE_BINDINGS, *prompt_bindings()]:
        if candidate.id == binding_id:
            return candidate
    raise KeyError(binding_id)


def keys_of(bound: Binding, keymap: Mapping[str, str]) -> str:
    """The keys of a binding once the user's keymap is applied (``"alt+up,ctrl+pageup"``)."""
    return keymap.get(bound.id, bound.key) if bound.id else bound.key


_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn", "up": "↑", "down": "↓",
          "left": "←", "right": "→", "delete": "Del", "tab": "Tab",
          "left_square_bracket": "[", "right_square_bracket": "]"}


def key_label(keys: str) -> str:
    """``"alt+up,ctrl+pageup"`` -> ``"Alt+↑, Ctrl+PgUp"``."""
    labels = []
    for key in keys.split(","):
        parts = key.strip().split("+")
        *mods, name = parts
        name = _NAMES.get(name, name.upper() if len(name) <= 3 else name.capitalize())
        labels.append("+".join([m.capitalize() for m in mods] + [name]))
    return ", ".join(labels)


def key_name(binding_id: str, keymap: Mapping[str, str]) -> str:
    """The first key of a binding as the user's keymap has it (``"Ctrl+R"``), for hints; "" for no such id."""
    try:
        return key_label(keys_of(binding(binding_id), keymap)).split(",")[0].strip()
    except KeyError:
        return ""


@dataclass(frozen=True)
class PaletteEntry:
    """A command-palette entry for a binding: its description ends with the binding's keys."""

    title: str
    help: str
    binding_id: str

    @property
    def action(self) -> str:
        """The binding's action (``"new_conversation"``)."""
        return binding(self.binding_id).action

    def description(self, keymap: Mapping[str, str]) -> str:
        """``"Start a new conversation (Ctrl+N)"``, with the key from `keymap` if remapped."""
        return f"{self.help} ({key_label(keys_of(binding(self.binding_id), keymap))})"


HELP_ENTRY = PaletteEntry("Help", "All keys and their binding ids", "app.help")

CHAT_PALETTE = [
    PaletteEntry("New conversation", "Start a new conversation", "conversation.new"),
    PaletteEntry("Rename conversation", "Give the conversation your own title", "conversation.rename"),
    PaletteEntry("Change model", "Choose the backend and model for the next message", "conversation.model"),
    PaletteEntry("Edit system prompt", "Set the conversation's system prompt (MiniMax API)", "conversation.system_prompt"),
    PaletteEntry("Delete conversation", "Delete the conversation, after confirmation", "conversation.delete"),
    PaletteEntry("Search conversations", "Filter the sidebar by title and text", "conversation.search"),
    PaletteEntry("Stop answer", "Stop the answer; the partial text is kept", "chat.stop"),
    PaletteEntry("Regenerate answer", "Ask again for the last answer; the old one stays as a version", "chat.regenerate"),
    PaletteEntry("Edit last message", "Edit your last message and send it as a new version", "chat.edit_last"),
    PaletteEntry("Copy answer", "Copy the last answer to the clipboard", "chat.copy_answer"),
    PaletteEntry("Copy code block", "Choose a code block to copy", "chat.copy_code"),
    PaletteEntry("Copy message", "Copy the highlighted message's Markdown, or the block under the block cursor",
                 "message.copy"),
    PaletteEntry("Copy message text", "Copy the highlighted message (or block) as plain text, as shown",
                 "message.copy_text"),
    PaletteEntry("Edit message", "Edit the highlighted question and send it as a new version", "message.edit"),
    PaletteEntry("Regenerate message", "Ask again for the highlighted answer; the old one stays as a version",
                 "message.regenerate"),
    PaletteEntry("Delete message", "Delete the highlighted message and what follows it on its branch, after "
                 "confirmation", "message.delete"),
    PaletteEntry("Fork conversation", "A new conversation up to the highlighted message", "message.fork"),
    PaletteEntry("Export conversation", "Write the conversation as shown to a Markdown file", "conversation.export"),
    PaletteEntry("Export every branch", "Write every version of every message to a Markdown file",
                 "conversation.export_branches"),
    PaletteEntry("Toggle web search", "Let Hailuo search the web for the next messages", "chat.web_search"),
    PaletteEntry("Toggle sidebar", "Show or hide the conversation list", "app.toggle_sidebar"),
]
"""The chat screen's commands in the palette, in the order shown."""


#: Key names Textual's input parser delivers without a modifier (``escape``, ``f5``, ``pageup``, ...).
_NAMED_KEYS = frozenset(
    [key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")]
    + list(KEY_NAME_REPLACEMENTS.values())
)


def is_key(key: str) -> bool:
    """Whether ``key`` (one key of a binding, e.g. ``"ctrl+n"``) is a key Textual can deliver.

    A keymap value Textual cannot deliver is accepted by Textual without a word and the
    binding just never fires; the config check uses this to say so instead.

    Args:
        key: Modifiers (ctrl, alt, shift, super, hyper, meta) and a key name or character, joined by ``+``.

    Returns:
        True when the name exists and the modifiers are known and not repeated.
    """
    *modifiers, name = key.split("+")
    if len(set(modifiers)) != len(modifiers) or not all(m in KEY_MODIFIERS for m in modifiers):
        return False
    if len(name) == 1:
        return name.isprintable() and not name.isspace()
    return name in _NAMED_KEYS or (bool(name) and key_to_character(name) is not None)

