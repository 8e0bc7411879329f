"""Services for the MiniMax API backend: which host, which key, which backend; login, logout, models."""

from __future__ import annotations

import subprocess
import sys

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from hailuo_tui.config import API_HOSTS, Config, Paths
from hailuo_tui.provider import AuthError
from hailuo_tui.services import API_KEY_ENV, Options, Services
from hailuo_tui.store.vault import API_KEY_ACCOUNT, ApiKeyVault, TokenVault


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def make(tmp_path, config: Config | None = None, options: Options | None = None, kr: MemoryKeyring | None = None):
    kr = kr or MemoryKeyring()
    services = Services(config or Config(), Paths.under(tmp_path), options or Options(),
                        vault=TokenVault(service="svc", backend=kr))
    services._api_vault = ApiKeyVault(service="svc", backend=kr)
    return services, kr


def test_the_api_host_follows_options_then_config_then_region(tmp_path):
    assert make(tmp_path)[0].api_base_url == API_HOSTS["international"] == "https://api.minimax.io/v1"
    assert make(tmp_path, Config(api_region="china"))[0].api_base_url == "https://api.minimaxi.com/v1"
    config = Config(api_region="china", api_base_url="https://gateway.example/v1/")
    assert make(tmp_path, config)[0].api_base_url == "https://gateway.example/v1"
    options = Options(api_base_url="http://127.0.0.1:9/v1")
    assert make(tmp_path, config, options)[0].api_base_url == "http://127.0.0.1:9/v1"


def test_the_config_hosts_match_the_client():
    from hailuo_tui.provider.minimax import API_HOSTS as CLIENT_HOSTS

    assert API_HOSTS == CLIENT_HOSTS


def test_the_default_backend_follows_options_then_config(tmp_path):
    assert make(tmp_path)[0].default_backend == "web"
    assert make(tmp_path, Config(default_backend="api"))[0].default_backend == "api"
    assert make(tmp_path, Config(default_backend="api"), Options(backend="web"))[0].default_backend == "web"


async def test_the_env_key_overrides_the_stored_one(tmp_path, monkeypatch):
    services, kr = make(tmp_path)
    assert await services.api_key() is None and await services.api_key_source() is None
    kr.store[("svc", API_KEY_ACCOUNT)] = "sk-api-stored-key-123"
    assert await services.api_key() == "sk-api-stored-key-123"
    assert await services.api_key_source() == "keyring"
    monkeypatch.setenv(API_KEY_ENV, "  sk-api-from-env-456\n")
    assert await services.api_key() == "sk-api-from-env-456"
    assert await services.api_key_source() == "env"


async def test_the_backends_carry_the_run_settings(tmp_path):
    from hailuo_tui.provider.backend import Backend

    config = Config(proxy="http://127.0.0.1:3128", read_timeout=12.0, connect_timeout=3.0, max_tokens=2048,
                    api_base_url="http://127.0.0.1:9/v1")
    services, _ = make(tmp_path, config)
    api = services.api_backend("sk-api-settings-test-1")
    assert (api.base_url, api.proxy, api.read_timeout, api.connect_timeout, api.max_tokens) == (
        "http://127.0.0.1:9/v1", "http://127.0.0.1:3128", 12.0, 3.0, 2048)
    assert "sk-api-settings-test-1" not in repr(api)
    from hailuo_tui.provider.models import AuthResult

    web = services.web_backend(AuthResult("t", "/q", 1))
    assert (web.base_url, web.proxy, web.read_timeout, web.connect_timeout) == (
        "https://www.hailuo.ai", "http://127.0.0.1:3128", 12.0, 3.0)
    assert isinstance(api, Backend) and isinstance(web, Backend)


async def test_login_checks_the_key_and_stores_only_an_accepted_one(tmp_path, emulator):
    services, kr = make(tmp_path, options=Options(api_base_url=emulator.api_base_url))
    with pytest.raises(AuthError):
        await services.login_with_api_key("sk-api-not-issued-by-the-emulator")
    assert kr.store == {}
    for not_a_key in ("   ", "sk-api two pieces", "sk-api-ключ"):
        with pytest.raises(AuthError):
            await services.login_with_api_key(not_a_key)
    key = emulator.issue_api_key()
    await services.login_with_api_key(f" {key}\n")
    assert kr.store == {("svc", API_KEY_ACCOUNT): key}


async def test_logout_forgets_either_or_both(tmp_path):
    from hailuo_tui.provider.models import AuthResult

    services, kr = make(tmp_path)

    async def fill():
        await services.vault.save(AuthResult("tok", "/q", 1))
        await services.api_key_vault.save("sk-api-logout-test-1")

    await fill()
    await services.logout("api")
    assert set(kr.store) == {("svc", "default")}
    await fill()
    await services.logout("web")
    assert set(kr.store) == {("svc", API_KEY_ACCOUNT)}
    await fill()
    await services.logout()
    assert kr.store == {}
    with pytest.raises(ValueError):
        await services.logout("everything")


async def test_models_are_listed_cached_and_fall_back(tmp_path, emulator):
    services, _ = make(tmp_path, options=Options(api_base_url=emulator.api_base_url))
    key = emulator.issue_api_key()
    first = await services.api_models(key)
    assert first.source == "server" and "MiniMax-M3" in first.models and first.note is None
    emulator.config.api_models_fail = "server_1000"
    again = await services.api_models(key)
    assert again.source == "cache" and again.models == first.models
    fallback = await services.api_models(key, refresh=True)
    assert fallback.source == "documented" and "MiniMax-M3" in fallback.models and fallback.note
    emulator.config.api_models_fail = None
    with pytest.raises(AuthError):
        await services.api_models("sk-api-unknown-key-000", refresh=True)
    cache_file = services.paths.cache / "models.json"
    assert cache_file.is_file() and key.encode() not in cache_file.read_bytes()


async def test_demo_mode_uses_the_emulator_and_its_key_without_a_keyring(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv(API_KEY_ENV, "sk-api-a-real-key-the-demo-ignores")
    services = await Services.start(Options(demo=True), Config())
    try:
        assert services.api_base_url == services.emulator.url + "/v1"
        assert await services.api_key() == services.emulator.demo_api_key
        assert await services.api_key_source() == "demo"
        assert services.api_key_vault.persistent is False and services.api_key_vault.warning is None
        await services.api_backend(await services.api_key()).check()
    finally:
        await services.close()


def test_services_and_the_cli_do_not_import_aiohttp_at_start():
    code = ("import sys, hailuo_tui.services, hailuo_tui.cli, hailuo_tui.cli_api, hailuo_tui.model_cache\n"
            "from hailuo_tui.config import Config, Paths\n"
            "from hailuo_tui.services import Options, Services\n"
            "s = Services(Config(), Paths.under(__import__('pathlib').Path('/nonexistent')), Options())\n"
            "s.api_base_url, s.default_backend\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_app_imports_its_reply_sessions_at_the_first_send_not_at_start():
    """The session and its events (ten dataclasses, ~5.5 ms of module bodies) are not on the start's path."""
    code = ("import sys, hailuo_tui.cli, hailuo_tui.app, hailuo_tui.screens.chat_screen\n"
            "print(sorted(m for m in sys.modules if m in ('hailuo_tui.reply_session', 'hailuo_tui.reply_events')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_backends_are_preloaded_once_and_a_backend_waits_for_them(tmp_path, caplog):
    """`preload_backends` imports in a thread; building a backend waits for those imports first (never two
    importers at once) but not for what the thread runs after them (``then``); a module that fails to
    import is logged, not raised (it is imported again, and fails where it is used)."""
    import importlib
    import threading

    services, _keyring = make(tmp_path)
    started = threading.Event()
    release = threading.Event()
    after = threading.Event()  # holds what runs after the imports: a backend does not wait for it
    seen: list[str] = []
    original = importlib.import_module

    def slow_import(name, *args):
        if name in ("json", "no_such_module_for_hailuo"):
            seen.append(name)
            started.set()
            release.wait(5)
        return original(name, *args)

    importlib.import_module = slow_import
    try:
        services.preload_backends(("json", "no_such_module_for_hailuo"), then=lambda: (seen.append("then"), after.wait(5)))
        assert started.wait(5)
        services.preload_backends(("json",))  # once: no second thread
        joined = threading.Thread(target=services._backends_loaded)
        joined.start()
        joined.join(0.2)
        assert joined.is_alive()  # a backend built now waits for the preload...
        release.set()
        joined.join(5)
        assert not joined.is_alive()  # ...and goes on once it is done, while `then` still runs
        assert services._preload.is_alive()
        after.set()
        services._preload.join(5)
    finally:
        importlib.import_module = original
        after.set()
    assert seen == ["json", "no_such_module_for_hailuo", "then"]
    assert "could not preload no_such_module_for_hailuo" in caplog.text
    assert services.api_backend("sk-test").id == "api"
