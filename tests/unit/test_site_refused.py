"""A Cloudflare challenge page is its own error: the site refused the request, the login is not the problem."""

from __future__ import annotations

import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.emulator.protocol import CLOUDFLARE_PAGE
from hailuo_tui.provider import AuthError, SiteRefused
from hailuo_tui.provider.login import token_login
from hailuo_tui.provider.transport import error_for_status, is_challenge_page
from hailuo_tui.provider.web_backend import WebBackend
from hailuo_tui.provider.backend import ChatRequest


def test_a_challenge_page_is_site_refused_and_a_json_403_is_still_a_login_error():
    error = error_for_status(403, CLOUDFLARE_PAGE, {"Content-Type": "text/html"})
    assert isinstance(error, SiteRefused) and not isinstance(error, AuthError)
    assert "browser check" in error.message and "expired" not in error.message
    assert isinstance(error_for_status(403, "x", {"cf-mitigated": "challenge"}), SiteRefused)
    json_body = '{"statusInfo":{"code":1004,"message":"token expired"}}'
    assert isinstance(error_for_status(403, json_body, {"Content-Type": "application/json"}), AuthError)
    assert isinstance(error_for_status(401, CLOUDFLARE_PAGE), AuthError)  # a 401 is the login, whatever the body
    assert not is_challenge_page(502, "<html><title>502 Bad Gateway</title></html>")


async def test_the_provider_raises_site_refused_for_the_emulators_cloudflare_page():
    async with Emulator(EmulatorConfig(seed=1, fail_next=[403], fail_403_cloudflare=True)) as emu:
        backend = WebBackend(await token_login(emu.demo_token, emu.url), base_url=emu.url)
        with pytest.raises(SiteRefused) as caught:
            async for _event in backend.stream(ChatRequest([{"role": "user", "content": "hi"}])):
                pass
        assert caught.value.exit_code == 12 and caught.value.retryable
