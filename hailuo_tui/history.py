"""Pure helpers that turn stored conversations into what the provider needs, or a file (no UI)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from hailuo_tui.domain import MessageStatus, Role
from hailuo_tui.provider import AuthResult, Conversation
from hailuo_tui.provider.models import Usage
from hailuo_tui.sanitize import clean


class _Message(Protocol):
    role: str
    content: str
    status: str


class _ExportedMessage(_Message, Protocol):
    error: str | None


class _TreeMessage(_ExportedMessage, Protocol):
    id: int
    parent_id: int | None


class _ConversationRow(Protocol):
    chat_id: str | None
    token_fp: str | None
    remote_leaf_id: int | None


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


def server_conversation(
    row: _ConversationRow | None, auth: AuthResult, fingerprint: str, after_id: int | None
) -> Conversation | None:
    """The server chat to continue, or ``None`` to replay the history as a new chat.

    A chat continues only under the login that created it (``fingerprint`` is the
    current token's fingerprint; the store never holds the token itself), and only
    when the question being answered follows the last message that chat holds
    (``after_id``: the question's parent; ``row.remote_leaf_id``: the chat's last
    message). A question on another branch (an edit, a regenerated answer, an older
    version) is asked in a new chat, with its branch's history folded in.
    """
    if row is None or not row.chat_id or row.token_fp != fingerprint:
        return None
    if row.remote_leaf_id is None or row.remote_leaf_id != after_id:
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

    ``messages`` are the stored rows in order (the branch on screen). An answer that did not
    complete is followed by a note of its status (and error); one with web-search sources
    or suggested follow-up questions, by a "Sources" and a "Suggestions" list.
    """
    parts = _title_markdown(title)
    for m in messages:
        parts += _message_markdown(m, 2)
    return "\n".join(parts).rstrip("\n") + "\n"


def export_tree_markdown(title: str | None, rows: Iterable[_TreeMessage]) -> str:
    """Every branch of a conversation as Markdown: ``rows`` are all its messages, in any order.

    Messages follow each other as in :func:`export_markdown` until a message has more than one
    version (an edited question, a regenerated answer); there each version gets a section,
    "### Version 2 of 3", holding that version and the rest of its branch, one heading level
    deeper for each branch point it is under (bold text past Markdown's six levels).
    """
    children: dict[int | None, list[_TreeMessage]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        children.setdefault(row.parent_id, []).append(row)
    parts = _title_markdown(title)
    _branch_markdown(parts, children, None, 0)
    return "\n".join(parts).rstrip("\n") + "\n"


def _branch_markdown(
    parts: list[str], children: dict[int | None, list[_TreeMessage]], parent: int | None, depth: int
) -> None:
    """Write what follows ``parent``: a run of single messages, then a section per version at a fork."""
    following = children.get(parent, [])
    while len(following) == 1:
        parts += _message_markdown(following[0], 2 + 2 * depth)
        following = children.get(following[0].id, [])
    for number, version in enumerate(following, 1):
        parts += [_heading(3 + 2 * depth, f"Version {number} of {len(following)}"), ""]
        parts += _message_markdown(version, 4 + 2 * depth)
        _branch_markdown(parts, children, version.id, depth + 1)


def _heading(level: int, text: str) -> str:
    return f"{'#' * level} {text}" if level <= 6 else f"**{text}**"


def _title_markdown(title: str | None) -> list[str]:
    # The text came from the server: an export must not act on the terminal it is printed in.
    heading = " ".join(clean(title or "").split())
    return [f"# {heading or 'Untitled conversation'}", ""]


def _message_markdown(m: _ExportedMessage, level: int) -> list[str]:
    parts = [_heading(level, "You" if m.role == Role.USER else "Hailuo"), ""]
    if m.content:
        parts += [clean(m.content).rstrip("\n"), ""]
    if m.status != MessageStatus.COMPLETE:
        note = f"_({m.status}"
        note += f": {clean(m.error)})_" if m.error else ")_"
        parts += [note, ""]
    return parts + _extras_markdown(getattr(m, "sources", ()) or (), getattr(m, "follow_ups", ()) or ())


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


def write_export(
    title: str | None, messages: Iterable[Any], directory: Path | None = None, *, every_branch: bool = False
) -> Path:
    """Write a conversation as Markdown to a new file (mode 0600, never overwriting); its path.

    ``messages`` is the branch on screen, or with ``every_branch`` all the conversation's messages
    (:func:`export_tree_markdown`). ``directory`` defaults to the working directory, or the home
    directory when that is not writable. Raises :class:`OSError` (the path is in ``filename``).
    """
    if directory is None:
        directory = Path.cwd() if os.access(Path.cwd(), os.W_OK) else Path.home()
    text = export_tree_markdown(title, messages) if every_branch else export_markdown(title, messages)
    path = export_path(title, directory)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def usage_record(usage: Usage, seconds: float) -> dict[str, Any]:
    """What is saved (and shown) of an answer's usage."""
    return {
        "model": usage.model,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "seconds": round(seconds, 3),
    }


def first_line_title(messages: Sequence[Any], width: int = 48) -> str:
    """A title from the first user message (config ``api_titles = "first-line"``): rows or mappings."""
    for message in messages:
        role = message["role"] if isinstance(message, Mapping) else message.role
        if role == Role.USER:
            content = message["content"] if isinstance(message, Mapping) else message.content
            line = next((part for part in str(content).splitlines() if part.strip()), "")
            line = " ".join(clean(line).split())
            return line if len(line) <= width else line[: width - 1].rstrip() + "…"
    return ""
