"""The debug log's redaction of API keys (the token's is covered by tests/e2e/test_secrets.py)."""

from __future__ import annotations


def test_the_debug_log_redacts_api_keys():
    from hailuo_tui.logs import redact

    key = "sk-api-LOG-0123456789abcdefXYZ"
    for line in (f"Authorization: Bearer {key}", f"{{'authorization': 'Bearer {key}'}}", f"api_key={key}",
                 f'"api-key": "{key}"', f"the key {key} was refused", "Bearer opaque-gateway-key-123"):
        shown = redact(line)
        assert key not in shown and "opaque-gateway-key-123" not in shown and "<redacted" in shown, shown
    assert redact("plain text about a sk- prefix") == "plain text about a sk- prefix"
