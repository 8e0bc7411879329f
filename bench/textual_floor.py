"""Textual's own floor for a streamed answer: the least a Textual app can do to show the same stream.

Usage (a child process; ``bench/anchors.py --clients hailuo-tui,textual-markdown,textual-plain`` drives it in
tmux like elia and oterm):
    python bench/textual_floor.py --url http://127.0.0.1:PORT/v1 [--plain | --log [--every S]]

A bare Textual app, nothing of hailuo-tui imported: a scrolling column that follows its end
(``VerticalScroll.anchor()``) and an Input (placeholder "Message"). Enter sends the prompt to the fake's
``/chat/completions`` with aiohttp, decodes each ``data:`` line with ``json.loads`` and appends the content
delta:

* by default to a ``textual.widgets.Markdown`` through ``Markdown.get_stream()``, Textual's documented way to
  stream Markdown (it joins the fragments that arrive while it is still drawing);
* with ``--plain`` to a ``Static`` holding the text as it came, unparsed (no Markdown), updated at most every
  50 ms: the naive way, every update wraps the whole answer again;
* with ``--log`` to Textual's ``Log`` widget (lines kept apart, only the visible ones drawn, no wrapping, no
  Markdown), the deltas of each 1/15 s written at once (hailuo-tui's fastest cadence; ``--every 0.25``: its
  slowest, which a long answer reaches): the least a Textual app can do per frame to show a growing text, so
  with the socket and JSON it is the floor of a drawn stream at that cadence.

None keeps a store, a title request, a status line, a thinking section or a cursor: what it costs is what
Textual and the socket cost for this answer in this terminal. Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import aiohttp
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Log, Markdown, Static


class Floor(App):
    CSS = """
    VerticalScroll { height: 1fr; }
    Input { dock: bottom; }
    """
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self, url: str, kind: str, every: float) -> None:
        super().__init__()
        self.url = url
        self.kind = kind
        self.every = every

    def compose(self) -> ComposeResult:
        if self.kind == "log":
            yield Log(id="answer")
        else:
            with VerticalScroll():
                yield Static("", id="prompt")
                yield Static("", id="answer") if self.kind == "plain" else Markdown("", id="answer")
        yield Input(placeholder="Message")

    def on_mount(self) -> None:
        if self.kind != "log":
            self.query_one(VerticalScroll).anchor()
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.kind == "log":
            self.query_one(Log).write_line(event.value)
        else:
            self.query_one("#prompt", Static).update(Text(event.value))
        event.input.value = ""
        self.ask(event.value)

    @work(exclusive=True)
    async def ask(self, prompt: str) -> None:
        body = {"model": "bench-model", "stream": True, "messages": [{"role": "user", "content": prompt}]}
        answer = self.query_one("#answer")
        stream = Markdown.get_stream(answer) if self.kind == "markdown" else None
        pieces: list[str] = []
        shown = 0
        loop = asyncio.get_running_loop()
        next_update = 0.0
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url + "/chat/completions", json=body) as response:
                async for line in response.content:
                    if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                        continue
                    chunk = json.loads(line[6:])
                    choices = chunk.get("choices") or []
                    text = (choices[0].get("delta") or {}).get("content") if choices else None
                    if not text:
                        continue
                    if stream is not None:
                        await stream.write(text)
                    else:
                        pieces.append(text)
                        if loop.time() >= next_update:
                            self._show(answer, pieces, shown)
                            shown, next_update = len(pieces), loop.time() + self.every
        if stream is not None:
            await stream.stop()
        elif shown != len(pieces):
            self._show(answer, pieces, shown)

    def _show(self, answer, pieces: list[str], shown: int) -> None:
        if self.kind == "log":
            answer.write("".join(pieces[shown:]))
        else:
            answer.update(Text("".join(pieces)))  # Text: no markup parsed from the answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the fake's OpenAI-compatible base URL (…/v1)")
    kinds = parser.add_mutually_exclusive_group()
    kinds.add_argument("--plain", action="store_true", help="a Static of unparsed text instead of Markdown")
    kinds.add_argument("--log", action="store_true", help="Textual's Log widget, written 15 times a second")
    parser.add_argument("--every", type=float, help="seconds between updates (--log: 1/15, --plain: 0.05)")
    args = parser.parse_args()
    kind = "plain" if args.plain else "log" if args.log else "markdown"
    Floor(args.url, kind, args.every or (0.05 if args.plain else 1 / 15)).run()


if __name__ == "__main__":
    main()
