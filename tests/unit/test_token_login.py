"""``hailuo-tui login --token``: device registration against the emulator (no browser)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qsl

import pytest

from hailuo_tui.provider.errors import AuthError, NetworkError
from hailuo_tui.provider.login import token_login
from hailuo_tui.provider.signing import QUERY_ORDER, sign_json

pytestmark = pytest.mark.timeout(60)


def _emulator():
    try:
        from hailuo_tui.emulator import Emulator, EmulatorConfig
    except Exception as exc:  # not there yet
        pytest.skip(f"hailuo_tui.emulator not importable: {exc}")
    return Emulator, EmulatorConfig


async def test_token_login_registers_device():
    Emulator, EmulatorConfig = _emulator()
    async with Emulator(EmulatorConfig()) as emu:
        auth = await token_login("  " + emu.demo_token + "\n", emu.url)
        assert auth.token == emu.demo_token
        assert auth.base_url == emu.url.rstrip("/")
        path, _, query = auth.path_and_query.partition("?")
        assert path == "/v4/api/chat/msg"
        pairs = parse_qsl(query)
        assert [k for k, _ in pairs] == list(QUERY_ORDER)
        params = dict(pairs)
        assert params["unix"] == str(auth.timestamp)
        reg = [r for r in emu.requests if r.target.startswith("/v1/api/user/device/register")]
        assert len(reg) == 1
        rec = reg[0]
        assert rec.yy_ok is True and rec.status == 200
        assert "device_id=" not in rec.target  # the register query carries no device_id
        assert rec.body == '{"uuid":"%s"}' % params["uuid"]  # compact JSON
        assert rec.headers["yy"] == sign_json(rec.target, dict(parse_qsl(rec.target.partition("?")[2]))["unix"], rec.body)
        assert params["device_id"] == emu.devices[params["uuid"]]
        assert "user-agent" in auth.headers and auth.headers["referer"] == emu.url.rstrip("/") + "/"
        assert emu.demo_token not in repr(auth)


async def test_token_login_refused_token():
    Emulator, EmulatorConfig = _emulator()
    async with Emulator(EmulatorConfig()) as emu:
        with pytest.raises(AuthError) as err:
            await token_login("eyJunknown.token.value", emu.url)
        assert "refused" in err.value.message
        assert "eyJunknown" not in err.value.message + str(err.value.detail)


async def test_token_login_rejects_garbage_without_network():
    with pytest.raises(AuthError):
        await token_login("two words", "http://127.0.0.1:9")
    with pytest.raises(AuthError):
        await token_login("   ", "http://127.0.0.1:9")


async def test_token_login_network_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError) as err:
        await token_login("eyJabc.def.ghi", f"http://127.0.0.1:{port}", timeout=5)
    assert "eyJabc" not in err.value.message + str(err.value.detail)
