"""The vaults: the web login and the MiniMax API key, each its own entry in the system keyring.

The web login (token, fingerprint query, timestamp, headers, cookies, base URL)
is stored as compact JSON under service ``hailuo-tui``, account ``default``
(:class:`TokenVault`); the API key as it is, account ``api-key``
(:class:`ApiKeyVault`). Both follow the same rules: when no usable keyring
exists (no D-Bus/Secret Service, a locked keyring, or only a plain-text file
backend), a vault keeps its secret **in memory for this run only**, sets
``persistent = False`` and explains in ``warning`` what to install. It never
writes a secret to a file of its own.

All keyring calls block, so they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Self

from hailuo_tui.provider.errors import HailuoError
from hailuo_tui.provider.models import AuthResult

SERVICE = "hailuo-tui"
#: The keyring account of the MiniMax API key (the web login's is ``"default"``).
API_KEY_ACCOUNT = "api-key"

_INSTALL_ADVICE = (
    "To keep it between runs, install gnome-keyring (or KWallet) and run inside a desktop/D-Bus session "
    "(e.g. `sudo apt install gnome-keyring`), or set up another keyring backend such as "
    "`pip install keyrings.alt` with its encrypted file backend."
)


class VaultUnavailable(HailuoError):
    """No usable system keyring: the login is kept in memory for this run only."""

    title = "No keyring"
    exit_code = 1
    retryable = False

    def __init__(self, reason: str = "", *, detail: str | None = None, what: str = "login") -> None:
        message = (
            ("No usable system keyring was found" + (f" ({reason})" if reason else "") + ". ")
            + f"Your {what} is kept in memory for this run only; you will have to log in again next time. "
            + _INSTALL_ADVICE
        )
        super().__init__(message, detail=detail)
        self.reason = reason


def _qualname(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refusal(backend: Any) -> str | None:
    """Why ``backend`` must not hold the token, or None if it may."""
    name = _qualname(backend)
    if name.startswith("keyring.backends.fail."):
        return "no keyring backend is available"
    if name.startswith("keyring.backends.null."):
        return "the keyring is disabled"
    if name.startswith("keyring.backends.chainer."):
        return "no keyring backend is available"
    if "plaintext" in name.lower() or name.startswith("keyrings.alt.file.PlaintextKeyring"):
        return "the only keyring found would store the token in a plain-text file"
    with contextlib.suppress(Exception):
        if float(getattr(type(backend), "priority", 1)) <= 0:
            return "no keyring backend is available"
    return None


def _select_backend(root: Any) -> tuple[Any | None, str]:
    """Pick the backend to use; unwrap a ChainerBackend instead of trusting it.

    A chainer would quietly fall through to a plain-text backend when the
    Secret Service fails, so we use its best acceptable member directly.
    """
    members = list(getattr(root, "backends", None) or []) if _qualname(root).startswith("keyring.backends.chainer.") else [root]
    reasons = []
    for backend in members:
        why = _refusal(backend)
        if why is None:
            return backend, ""
        reasons.append(why)
    if not members:
        return None, "no keyring backend is available"
    # prefer the most telling reason (plain text beats "none available")
    plain = [r for r in reasons if "plain-text" in r]
    return None, (plain[0] if plain else reasons[0])


def _describe(backend: Any) -> str:
    name = getattr(type(backend), "name", None) or type(backend).__name__
    return f"{name} ({_qualname(backend)})"


class _KeyringVault:
    """One secret in the system keyring, or in memory as a fallback; subclasses say how it is written."""

    #: What the secret is, in the user's words ("login", "API key").
    what: str = "secret"

    def __init__(
        self,
        service: str = SERVICE,
        account: str = "default",
        *,
        backend: Any = None,
        timeout: float = 120.0,
    ) -> None:
        self.service = service
        self.account = account
        self._given_backend = backend
        self._backend: Any = None
        self._resolved = False
        self._timeout = timeout
        self._memory: Any = None
        #: False once the vault has fallen back to memory for this run.
        self.persistent: bool = True
        #: A plain-words message for the user when something is not right (fallback, corrupt entry).
        self.warning: str | None = None
        #: The error behind ``warning`` when the keyring is unusable.
        self.problem: VaultUnavailable | None = None
        self._memory_reason: str | None = None
        self._resolving: asyncio.Task[Any] | None = None

    @classmethod
    def in_memory(cls, service: str = SERVICE, account: str | None = None, *, why: str = "by choice") -> Self:
        """A vault that never touches the keyring (the demo account), with no warning."""
        vault = cls(service) if account is None else cls(service, account)
        vault._resolved = True
        vault.persistent = False
        vault._memory_reason = why
        return vault

    # -- backend selection ----------------------------------------------------------

    def _resolve(self) -> Any | None:
        if not self._resolved:
            root = self._given_backend
            if root is None:
                try:
                    import keyring

                    root = keyring.get_keyring()
                except Exception as exc:  # import or discovery failure
                    self._fall_back("the keyring module could not start", detail=f"{type(exc).__name__}: {exc}")
                    self._resolved = True
                    return None
            backend, why = _select_backend(root)
            if backend is None:
                self._fall_back(why, detail=_qualname(root))
            self._backend = backend
            self._resolved = True  # last: another caller sees a finished choice or none
        return self._backend if self.persistent else None

    async def _resolve_async(self) -> Any | None:
        """`_resolve` off the event loop the first time.

        Importing keyring and discovering its backends (entry points, a D-Bus
        round trip for the Secret Service) takes tens of milliseconds: on the
        loop, that would hold the app's first frames back.
        """
        if not self._resolved:
            loop = asyncio.get_running_loop()
            if self._resolving is None or self._resolving.get_loop() is not loop:
                self._resolving = loop.create_task(asyncio.to_thread(self._resolve))
            await asyncio.shield(self._resolving)  # callers that come meanwhile share it
        return self._resolve()

    def _fall_back(self, reason: str, *, detail: str | None = None) -> None:
        self.persistent = False
        self._backend = None
        self.problem = VaultUnavailable(reason, detail=detail, what=self.what)
        self.warning = self.problem.message

    def describe_backend(self) -> str:
        """Which store holds the secret, in words (for ``hailuo-tui status``)."""
        backend = self._resolve()
        if backend is None:
            why = self.problem.reason if self.problem else (self._memory_reason or "no keyring")
            return f"memory only, for this run ({why})"
        return _describe(backend)

    async def _call(self, func, *args) -> Any:
        return await asyncio.wait_for(asyncio.to_thread(func, *args), self._timeout)

    def _keyring_failed(self, exc: BaseException) -> None:
        reason = _failure_reason(exc)
        self._fall_back(reason, detail=f"{type(exc).__name__}: {exc}"[:300])

    # -- the API ----------------------------------------------------------------------

    async def _load(self) -> Any:
        """The saved secret, or None. Never raises for keyring trouble."""
        backend = await self._resolve_async()
        if backend is None:
            return self._memory
        try:
            text = await self._call(backend.get_password, self.service, self.account)
        except Exception as exc:
            self._keyring_failed(exc)
            return self._memory
        if text is None:
            return self._memory
        try:
            value = self._decode(text)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.warning = self._damaged_warning
            return self._memory
        self._memory = value
        return value

    async def _save(self, value: Any) -> None:
        """Store the secret; falls back to memory (with ``warning``) when the keyring fails."""
        self._memory = value
        backend = await self._resolve_async()
        if backend is None:
            return
        try:
            await self._call(backend.set_password, self.service, self.account, self._encode(value))
        except Exception as exc:
            self._keyring_failed(exc)

    _damaged_warning = "The saved secret in the keyring could not be read, so it was ignored."

    def _encode(self, value: Any) -> str:
        raise NotImplementedError

    def _decode(self, text: str) -> Any:
        """The value of a keyring entry (raises ValueError when it is damaged)."""
        raise NotImplementedError

    async def clear(self) -> None:
        """Forget the secret (keyring entry and memory)."""
        self._memory = None
        backend = await self._resolve_async()
        if backend is None:
            return
        try:
            await self._call(backend.delete_password, self.service, self.account)
        except Exception as exc:
            if _is_not_found(exc):
                return
            self._keyring_failed(exc)


class TokenVault(_KeyringVault):
    """Keeps one web login (AuthResult) in the system keyring, or in memory as a fallback."""

    what = "login"
    _damaged_warning = (
        "The saved login in the keyring could not be read (it is damaged or from another program), "
        "so you are logged out. Log in again to replace it."
    )

    async def load(self) -> AuthResult | None:
        """The saved login, or None (logged out). Never raises for keyring trouble."""
        return await self._load()

    async def save(self, auth: AuthResult) -> None:
        """Store the login; falls back to memory (with ``warning``) when the keyring fails."""
        await self._save(auth)

    def _encode(self, value: AuthResult) -> str:
        return value.to_json()

    def _decode(self, text: str) -> AuthResult:
        auth = AuthResult.from_json(text)
        if not auth.token:
            raise ValueError("empty token")
        return auth


class ApiKeyVault(_KeyringVault):
    """Keeps the MiniMax API key in the system keyring (its own entry), or in memory as a fallback."""

    what = "API key"
    _damaged_warning = (
        "The saved API key in the keyring is empty or damaged, so it was ignored. "
        "Run `hailuo-tui login --api-key` to replace it."
    )

    def __init__(self, service: str = SERVICE, account: str = API_KEY_ACCOUNT, **kwargs: Any) -> None:
        super().__init__(service, account, **kwargs)

    async def load(self) -> str | None:
        """The saved API key, or None. Never raises for keyring trouble."""
        return await self._load()

    async def save(self, key: str) -> None:
        """Store the API key; falls back to memory (with ``warning``) when the keyring fails."""
        key = key.strip()
        if not key:
            raise ValueError("an empty API key")
        await self._save(key)

    def _encode(self, value: str) -> str:
        return value

    def _decode(self, text: str) -> str:
        key = text.strip()
        if not key or any(ch.isspace() for ch in key):
            raise ValueError("not an API key")
        return key


def _is_not_found(exc: BaseException) -> bool:
    with contextlib.suppress(Exception):
        from keyring.errors import PasswordDeleteError

        return isinstance(exc, PasswordDeleteError)
    return False


def _failure_reason(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return "the keyring did not answer"
    with contextlib.suppress(Exception):
        from keyring.errors import InitError, NoKeyringError

        if isinstance(exc, NoKeyringError):
            return "no keyring backend is available"
        if isinstance(exc, InitError) or "locked" in text.lower() or "prompt" in text.lower():
            return "the keyring is locked or could not be unlocked"
    return "the keyring reported an error"


def describe_backend() -> str:
    """Which store the default vault would use, in words (for ``hailuo-tui status``)."""
    return TokenVault().describe_backend()


__all__ = ["API_KEY_ACCOUNT", "SERVICE", "ApiKeyVault", "TokenVault", "VaultUnavailable", "describe_backend"]
