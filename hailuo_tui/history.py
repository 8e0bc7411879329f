"""Pure helpers that turn stored conversations into what the provider needs, or a file (no UI)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from hailuo_tui.domain import MessageStatus, Role
from hailuo_tui.provider import AuthResult, Conversation
from hailuo_tui.sanitize import clean


class _Message(Protocol):
    role: str
    content: str
    status: str


class _ExportedMessage(_Message, Protocol):
    error: str | None


class _ConversationRow(Protocol):
    chat_id: str | None
    token_fp: str | None


def provider_messages(rows: Iterable[_Message]) -> list[dict[str, Any]]:
    """The history as provider messages: user turns, and assistant text that was shown.

    Failed answers with no text are left out; interrupted ones keep their partial text
    (it is what the user saw, and what the server holds for that turn).
    """
    out = []
    for row in rows:
        if row.role not in (Role.USER, Role.ASSISTANT):
            continue
        if row.role == Role.ASSISTANT and not row.content.strip():
            continue
        out.append({"role": row.role, "content": row.content})
    return out


def server_conversation(row: _ConversationRow | None, auth: AuthResult, fingerprint: str) -> Conversation | None:
    """The server chat to continue, or ``None`` to replay the history as a new chat.

    A chat continues only under the login that created it (``fingerprint`` is the
    current token's fingerprint; the store never holds the token itself).
    """
    if row is None or not row.chat_id or row.token_fp != fingerprint:
        return None
    return Conversation(auth.token, row.chat_id)


def export_path(title: str | None, directory: Path, now: float | None = None) -> Path:
    """A file name for an exported conversation that does not overwrite anything."""
    slug = re.sub(r"[^\w]+", "-", (title or "conversation").strip().lower(), flags=re.UNICODE).strip("-")[:40]
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    path = directory / f"hailuo-{slug or 'conversation'}-{stamp}.md"
    n = 2
    while path.exists():
        path = directory / f"hailuo-{slug or 'conversation'}-{stamp}-{n}.md"
        n += 1
    return path


def export_markdown(title: str | None, messages: Iterable[_ExportedMessage]) -> str:
    """A conversation as Markdown: a title, then "## You" / "## Hailuo" sections.

    ``messages`` are the stored rows in order. An answer that did not complete
    is followed by a note of its status (and error); one with web-search sources
    or suggested follow-up questions, by a "Sources" and a "Suggestions" list.
    """
    # The text came from the server: an export must not act on the terminal it is printed in.
    heading = " ".join(clean(title or "").split())
    parts = [f"# {heading or 'Untitled conversation'}", ""]
    for m in messages:
        parts += ["## You" if m.role == Role.USER else "## Hailuo", ""]
        if m.content:
            parts += [clean(m.content).rstrip("\n"), ""]
        if m.status != MessageStatus.COMPLETE:
            note = f"_({m.status}"
            note += f": {clean(m.error)})_" if m.error else ")_"
            parts += [note, ""]
        parts += _extras_markdown(getattr(m, "sources", ()) or (), getattr(m, "follow_ups", ()) or ())
    return "\n".join(parts).rstrip("\n") + "\n"


def _inline(text: str) -> str:
    """Server text on one Markdown line, with nothing that would make a link or markup of it."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", " ".join(clean(text).split()))


def _extras_markdown(sources: Iterable[tuple[str, str]], follow_ups: Iterable[str]) -> list[str]:
    parts: list[str] = []
    links = [(title, "".join(clean(url).split())) for title, url in sources]
    if links:
        parts += ["**Sources**", ""]
        for number, (title, url) in enumerate(links, 1):
            if url.lower().startswith(("http://", "https://")) and not re.search(r"[\s<>]", url):
                parts.append(f"{number}. {_inline(title) or url} <{url}>")
            else:
                parts.append(f"{number}. {_inline(title)} {_inline(url)}".rstrip())
        parts.append("")
    questions = [_inline(q) for q in follow_ups if q.strip()]
    if questions:
        parts += ["**Suggestions**", ""] + [f"- {q}" for q in questions] + [""]
    return parts


def write_export(title: str | None, messages: Iterable[_ExportedMessage], directory: Path | None = None) -> Path:
    """Write a conversation as Markdown to a new file (mode 0600, never overwriting); its path.

    ``directory`` defaults to the working directory, or the home directory when that is not
    writable. Raises :class:`OSError` (the path is in ``filename``).
    """
    if directory is None:
        directory = Path.cwd() if os.access(Path.cwd(), os.W_OK) else Path.home()
    text = export_markdown(title, messages)
    path = export_path(title, directory)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
