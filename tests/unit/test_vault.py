"""TokenVault: the real Secret Service, the no-backend fallback and a locked keyring."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from hailuo_tui.provider.models import AuthResult
from hailuo_tui.store.vault import API_KEY_ACCOUNT, ApiKeyVault, TokenVault, VaultUnavailable, describe_backend
from tests.helpers import secret_service_skip_reason

REPO = Path(__file__).resolve().parents[2]


def _auth(token: str | None = None) -> AuthResult:
    return AuthResult(
        token=token or f"eyJ.vault-test-{uuid.uuid4().hex}.sig",
        path_and_query="/v4/api/chat/msg?device_platform=web&uuid=u&device_id=1&unix=1737800000000",
        timestamp=1737800000000,
        cookies={"c": "v"},
        headers={"user-agent": "Mozilla/5.0 Chrome/156.0.0.0", "referer": "https://www.hailuo.ai/"},
        base_url="https://www.hailuo.ai",
    )


def _account() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    data = needle.encode()
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and data in path.read_bytes():
                hits.append(path)
        except OSError:
            continue
    return hits


@pytest.fixture
def restore_keyring():
    """Put the global keyring back afterwards (ENVIRONMENT.md §4)."""
    old = keyring.get_keyring()
    yield
    keyring.set_keyring(old)


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


# --- (b) no usable backend -> memory only -----------------------------------------


async def test_fail_backend_falls_back_to_memory(restore_keyring, tmp_path, monkeypatch):
    from keyring.backends import fail

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    keyring.set_keyring(fail.Keyring())
    vault = TokenVault(account=_account())
    assert await vault.load() is None
    auth = _auth()
    await vault.save(auth)
    assert vault.persistent is False
    assert vault.warning and "gnome-keyring" in vault.warning and "keyrings.alt" in vault.warning
    assert "memory" in vault.warning and "this run" in vault.warning
    assert isinstance(vault.problem, VaultUnavailable) and vault.problem.title == "No keyring"
    loaded = await vault.load()
    assert loaded is not None and loaded.to_dict() == auth.to_dict()
    assert "memory only" in vault.describe_backend()
    assert "memory only" in describe_backend()
    await vault.clear()
    assert await vault.load() is None
    assert _files_containing(tmp_path, auth.token) == []
    assert not list(tmp_path.rglob("*"))  # nothing at all written


async def test_explicit_fail_backend_and_plaintext_refused(tmp_path):
    from keyring.backends import fail

    vault = TokenVault(account=_account(), backend=fail.Keyring())
    await vault.save(_auth())
    assert vault.persistent is False

    class PlaintextKeyring(MemoryKeyring):  # stands in for keyrings.alt.file.PlaintextKeyring
        pass

    plain = PlaintextKeyring()
    vault = TokenVault(account=_account(), backend=plain)
    await vault.save(_auth())
    assert vault.persistent is False and plain.store == {}
    assert "plain-text" in vault.warning


async def test_chainer_uses_its_safe_member_only(restore_keyring):
    from keyring.backends import chainer

    safe = MemoryKeyring()

    class PlaintextKeyring(MemoryKeyring):
        priority = 0.5

    plain = PlaintextKeyring()
    chain = chainer.ChainerBackend()
    chain.__dict__["backends"] = [safe, plain]  # the property is cached per instance
    vault = TokenVault(account=_account(), backend=chain)
    auth = _auth()
    await vault.save(auth)
    assert vault.persistent is True and plain.store == {}
    assert (await TokenVault(account=vault.account, backend=chain).load()).token == auth.token


async def test_round_trip_with_memory_backend_and_corrupt_entry():
    kr = MemoryKeyring()
    account = _account()
    vault = TokenVault(account=account, backend=kr)
    auth = _auth()
    await vault.save(auth)
    stored = kr.store[("hailuo-tui", account)]
    assert AuthResult.from_json(stored).to_dict() == auth.to_dict()  # the whole AuthResult, one entry
    fresh = TokenVault(account=account, backend=kr)
    assert (await fresh.load()).to_dict() == auth.to_dict()
    assert fresh.persistent and fresh.warning is None
    await fresh.clear()
    assert ("hailuo-tui", account) not in kr.store
    await fresh.clear()  # clearing twice is fine

    kr.store[("hailuo-tui", account)] = "not json {"
    broken = TokenVault(account=account, backend=kr)
    assert await broken.load() is None
    assert broken.warning and "log in again" in broken.warning.lower()
    assert broken.persistent  # the keyring itself works


async def test_keyring_error_midway_falls_back():
    from keyring.errors import KeyringError

    class Flaky(MemoryKeyring):
        def set_password(self, s, u, p):
            raise KeyringError("boom")

    vault = TokenVault(account=_account(), backend=Flaky())
    auth = _auth()
    await vault.save(auth)
    assert vault.persistent is False and vault.warning
    assert (await vault.load()).token == auth.token
    assert auth.token not in vault.warning


# --- (a) the real Secret Service ------------------------------------------------------


@pytest.mark.keyring
async def test_real_secret_service_round_trip(restore_keyring):
    reason = secret_service_skip_reason()
    if reason:
        pytest.skip(reason)
    from keyring.backends import SecretService

    keyring.set_keyring(SecretService.Keyring())
    account = _account()
    vault = TokenVault(account=account)
    auth = _auth()
    try:
        await vault.save(auth)
        assert vault.persistent and vault.warning is None
        assert "SecretService" in vault.describe_backend()
        raw = keyring.get_password("hailuo-tui", account)
        assert raw is not None and AuthResult.from_json(raw).to_dict() == auth.to_dict()
        again = TokenVault(account=account)
        assert (await again.load()).to_dict() == auth.to_dict()
        home = Path(os.environ["HOME"])
        assert _files_containing(home, auth.token) == []
        await again.clear()
        assert keyring.get_password("hailuo-tui", account) is None
        assert await TokenVault(account=account).load() is None
    finally:
        try:
            keyring.delete_password("hailuo-tui", account)
        except Exception:
            pass


# --- (a') and (c): in a private D-Bus session, as subprocesses ------------------------------

_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from pathlib import Path
    from hailuo_tui.provider.models import AuthResult
    from hailuo_tui.store.vault import TokenVault

    TOKEN = sys.argv[1]

    async def main():
        auth = AuthResult(token=TOKEN, path_and_query="/v4/api/chat/msg?unix=1", timestamp=1)
        v = TokenVault(account="sub")
        await v.save(auth)
        loaded = await TokenVault(account="sub").load()
        out = {"persistent": v.persistent, "warning": v.warning, "backend": v.describe_backend(),
               "same_run": (await v.load()).token == TOKEN,
               "other_vault": bool(loaded and loaded.token == TOKEN)}
        if v.persistent:
            import keyring
            out["raw_ok"] = json.loads(keyring.get_password("hailuo-tui", "sub"))["token"] == TOKEN
            await v.clear()
            out["cleared"] = await TokenVault(account="sub").load() is None
        print("RESULT" + json.dumps(out))

    asyncio.run(main())
    """
)


def _run_in_session(tmp_path: Path, *, unlock: bool, token: str) -> dict:
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        pytest.skip("needs dbus-run-session and gnome-keyring-daemon (apt install gnome-keyring dbus-x11)")
    script = tmp_path / "vault_probe.py"
    script.write_text(_SCRIPT)
    home = tmp_path / "home"
    home.mkdir()
    inner = f'{sys.executable} {script} "$0"'
    if unlock:
        inner = "printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; " + inner
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "PYTHON_KEYRING"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), DISPLAY="")
    env.pop("DISPLAY")
    res = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", inner, token],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")]
    assert lines, f"rc={res.returncode}\nstdout={res.stdout[-2000:]}\nstderr={res.stderr[-2000:]}"
    import json

    assert token not in res.stderr
    files = _files_containing(home, token)
    assert files == [], f"token in plain text in {files}"
    return json.loads(lines[-1][len("RESULT"):])


@pytest.mark.keyring
def test_secret_service_in_private_session(tmp_path):
    token = f"eyJ.sub-{uuid.uuid4().hex}.sig"
    out = _run_in_session(tmp_path, unlock=True, token=token)
    assert out["persistent"] is True, out
    assert out["warning"] is None
    assert "SecretService" in out["backend"]
    assert out["other_vault"] and out["raw_ok"] and out["cleared"]
    assert (tmp_path / "home" / ".local/share/keyrings").is_dir()  # gnome-keyring really stored it


@pytest.mark.keyring
def test_locked_keyring_falls_back_without_hanging(tmp_path):
    import time

    token = f"eyJ.locked-{uuid.uuid4().hex}.sig"
    t0 = time.monotonic()
    out = _run_in_session(tmp_path, unlock=False, token=token)
    assert time.monotonic() - t0 < 45
    assert out["persistent"] is False, out
    assert "locked" in out["warning"] and "gnome-keyring" in out["warning"]
    assert out["same_run"] is True  # kept in memory for this run
    assert out["other_vault"] is False
    assert "memory only" in out["backend"]


# --- the MiniMax API key: its own entry, the same rules ---------------------------------


def _api_key() -> str:
    return f"sk-api-vault-test-{uuid.uuid4().hex}"


async def test_api_key_is_its_own_entry_beside_the_login():
    kr = MemoryKeyring()
    service = f"hailuo-tui-test-{uuid.uuid4().hex[:8]}"
    tokens, keys = TokenVault(service=service, backend=kr), ApiKeyVault(service=service, backend=kr)
    auth, key = _auth(), _api_key()
    await tokens.save(auth)
    await keys.save("  " + key + "\n")  # pasted with blanks around it
    assert kr.store[(service, API_KEY_ACCOUNT)] == key and API_KEY_ACCOUNT != tokens.account
    assert (await ApiKeyVault(service=service, backend=kr).load()) == key
    assert (await TokenVault(service=service, backend=kr).load()).token == auth.token
    await keys.clear()  # forgetting the key keeps the web login
    assert await ApiKeyVault(service=service, backend=kr).load() is None
    assert (await TokenVault(service=service, backend=kr).load()).token == auth.token
    await keys.clear()  # twice is fine
    with pytest.raises(ValueError):
        await keys.save("   ")


async def test_api_key_damaged_entry_is_ignored_with_a_warning():
    kr = MemoryKeyring()
    vault = ApiKeyVault(account=_account(), backend=kr)
    kr.store[(vault.service, vault.account)] = "two words"
    assert await vault.load() is None
    assert vault.warning and "login --api-key" in vault.warning and vault.persistent


async def test_api_key_without_a_keyring_stays_in_memory(restore_keyring, tmp_path, monkeypatch):
    from keyring.backends import fail

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    keyring.set_keyring(fail.Keyring())
    vault = ApiKeyVault()
    key = _api_key()
    await vault.save(key)
    assert vault.persistent is False
    assert "Your API key is kept in memory for this run only" in vault.warning and "gnome-keyring" in vault.warning
    assert key not in vault.warning
    assert await vault.load() == key and "memory only" in vault.describe_backend()
    assert not list(tmp_path.rglob("*"))  # nothing written at all
    plain = type("PlaintextKeyring", (MemoryKeyring,), {})()
    refused = ApiKeyVault(backend=plain)
    await refused.save(key)
    assert refused.persistent is False and plain.store == {} and "plain-text" in refused.warning


@pytest.mark.keyring
async def test_api_key_in_the_real_secret_service(restore_keyring):
    reason = secret_service_skip_reason()
    if reason:
        pytest.skip(reason)
    from keyring.backends import SecretService

    keyring.set_keyring(SecretService.Keyring())
    service = f"hailuo-tui-test-{uuid.uuid4().hex[:8]}"
    key = _api_key()
    try:
        vault = ApiKeyVault(service=service)
        await vault.save(key)
        assert vault.persistent and vault.warning is None and "SecretService" in vault.describe_backend()
        assert keyring.get_password(service, API_KEY_ACCOUNT) == key
        assert keyring.get_password(service, "default") is None  # not mixed with the web login
        assert await ApiKeyVault(service=service).load() == key
        assert _files_containing(Path(os.environ["HOME"]), key) == []
        await ApiKeyVault(service=service).clear()
        assert keyring.get_password(service, API_KEY_ACCOUNT) is None
        assert await ApiKeyVault(service=service).load() is None
    finally:
        try:
            keyring.delete_password(service, API_KEY_ACCOUNT)
        except Exception:
            pass
