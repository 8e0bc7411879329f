"""Widgets of hailuo-tui. They never touch the provider, the store or the keyring."""

from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.kitty_parser import install_kitty_text_fix
from hailuo_tui.widgets.message_bubble import MessageBubble
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.status_bar import StatusBar

__all__ = [
    "ChatView",
    "ConversationList",
    "MessageBubble",
    "PromptInput",
    "StatusBar",
    "install_kitty_text_fix",
]
