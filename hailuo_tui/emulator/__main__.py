"""``python -m hailuo_tui.emulator``: run the Hailuo emulator standalone until Ctrl-C.

Prints its URL and the demo account's token (on purpose: it is a local,
fake account), the MiniMax API base URL (``URL/v1``) and the demo API key.
Every :class:`EmulatorConfig` field is a flag, e.g.
``--heartbeats --event-delay 0.05 --fail-next 429,500 --drop-before mid_answer``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import signal
import sys
from typing import Any

from hailuo_tui.emulator.config import EmulatorConfig
from hailuo_tui.emulator.server import Emulator


def _field_parser(annotation: str):
    ann = annotation.replace(" ", "")
    if ann.startswith("list[str]"):
        return lambda text: [x for x in text.replace(" ", "").split(",") if x]
    if ann.startswith("list[int]"):
        return lambda text: [int(x) for x in text.replace(" ", "").split(",") if x]
    if ann.startswith("int"):
        return int
    if ann.startswith("float"):
        return float
    return str


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hailuo_tui.emulator",
                                     description="Run the local Hailuo AI web-chat emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line {url, demo_token, api_base_url, demo_api_key} instead of text")
    parser.add_argument("--demo", action="store_true", help="start from EmulatorConfig.demo() (paced, lively)")
    parser.add_argument("--access-log", action="store_true", help="log requests (method, path, status; no tokens)")
    group = parser.add_argument_group("switches (EmulatorConfig fields)")
    for f in dataclasses.fields(EmulatorConfig):
        flag = "--" + f.name.replace("_", "-")
        ann = str(f.type)
        if ann == "bool":
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None)
        else:
            group.add_argument(flag, dest=f.name, type=_field_parser(ann), default=None, metavar=f.name.upper())
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    overrides: dict[str, Any] = {}
    for f in dataclasses.fields(EmulatorConfig):
        value = getattr(args, f.name, None)
        if value is not None:
            overrides[f.name] = value
    return EmulatorConfig.demo(**overrides) if args.demo else EmulatorConfig(**overrides)


async def _run(args: argparse.Namespace) -> None:
    emu = Emulator(config_from_args(args))
    url = await emu.start(host=args.host, port=args.port, access_log=args.access_log)
    if args.json:
        print(json.dumps({"url": url, "demo_token": emu.demo_token, "api_base_url": emu.api_base_url,
                          "demo_api_key": emu.demo_api_key}), flush=True)
    else:
        print(f"Hailuo emulator running at {url}", flush=True)
        print(f"Demo token: {emu.demo_token}", flush=True)
        print(f"MiniMax API base URL: {emu.api_base_url}", flush=True)
        print(f"Demo API key: {emu.demo_api_key}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            pass
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.access_log:
        import logging

        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
