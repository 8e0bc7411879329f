"""The commented example ``config.toml`` that ``hailuo-tui config --init`` writes."""

from __future__ import annotations

__all__ = ["default_config_text"]


def default_config_text() -> str:
    """A commented example ``config.toml`` listing every setting with its default."""
    return '''\
# hailuo-tui settings. Every line is optional; the values shown are the defaults.
# Location: ~/.config/hailuo-tui/config.toml (or the path in $HAILUO_TUI_CONFIG).

# The Hailuo web endpoint.
# base_url = "https://www.hailuo.ai"

# HTTP(S) proxy for all requests.
# proxy = "http://127.0.0.1:8080"

# A Textual theme name (try "textual-light", "nord", "gruvbox").
# theme = "textual-dark"

# Chrome/Chromium used to log in; found automatically when unset.
# browser_path = "/usr/bin/chromium"

# Run the login browser without a window.
# headless = false

# Seconds to wait for the login in the browser.
# login_timeout = 300

# Seconds without a byte before a reply counts as stalled.
# read_timeout = 60

# Seconds to wait for a connection.
# connect_timeout = 15

# Let Hailuo search the web by default.
# web_search = false

# Seconds one answer may take in all; a longer one is stopped (its text is kept).
# answer_timeout = 600

# The longest answer, in characters; a longer one is stopped (its text is kept).
# max_answer_chars = 2000000

# Write a debug log (it never contains the token).
# debug_log = false

# The backend of new conversations and of `hailuo-tui ask`: "web" (Hailuo web chat)
# or "api" (the official MiniMax API, with an API key: `hailuo-tui login --api-key`).
# default_backend = "web"

# Where your API key was made: "international" (api.minimax.io) or "china" (api.minimaxi.com).
# api_region = "international"

# Another OpenAI-compatible host (a mirror, a gateway); overrides api_region when set.
# api_base_url = ""

# The model of new API conversations (`hailuo-tui models` lists them).
# default_model = "MiniMax-M3"

# The system prompt of new API conversations (empty: none).
# system_prompt = ""

# How API conversations get a name: "model" (a short second request) or "first-line".
# api_titles = "model"

# Ask API models to reason before answering, where the model lets you choose.
# thinking = true

# Fold the thinking section when the answer starts.
# fold_thinking = true

# The most tokens an API answer may use (reasoning included).
# max_tokens = 8192

# Change keys: binding id = "keys" (comma-separate several keys).
[keymap]
# "chat.stop" = "escape"
# "conversation.new" = "ctrl+n"
'''
