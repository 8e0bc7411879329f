"""The anchors: elia and oterm beside hailuo-tui's API backend, on the same fake server, in one run.

Usage: .venv/bin/python bench/anchors.py [--runs N] [--only paced|burst] [--clients hailuo-tui,elia,oterm,…]
                                         [--no-reasoning] [--anchor-reasoning] [--show-screen]

* elia (PyPI ``elia-chat`` 1.10.0) and oterm (PyPI ``oterm`` 0.26.1) are installed once into throwaway
  virtualenvs under the bench cache dir (``~/.cache/hailuo-tui-bench/anchors/``; ``python -m venv`` +
  ``pip install``), then reused.
* Each app runs exactly like hailuo-tui in api_stream.py (whose ``measure`` this calls): a fresh process in
  tmux 120x40 with throwaway HOME/XDG dirs, configured through its own config file to talk to
  bench/openai_fake.py (the same 4,000 ``chat.completion.chunk`` deltas, paced at 200/s or a burst); the
  prompt is typed, then the app's send key; the same figures (app CPU, lag after the last event, peak RSS).
  - elia: ``$XDG_CONFIG_HOME/elia/config.toml`` with one model ``openai/bench-model`` at the fake's
    ``api_base`` (litellm's OpenAI-compatible route; ``LITELLM_LOCAL_MODEL_COST_MAP`` keeps litellm off the
    network). elia sends with Ctrl+J (Enter is a new line in its prompt); it quits with Ctrl+C (Textual 0.79).
  - oterm: ``$OTERM_DATA_DIR/config.json`` with an ``openaiCompatible`` endpoint at the fake (pydantic-ai's
    OpenAI chat model; no Ollama needed) and the splash screen off, and one chat on that endpoint created
    beforehand through oterm's own store (oterm otherwise asks for a model in a dialog).
  Neither sends ``reasoning_split``, so with ``--anchor-reasoning`` they get the reasoning inline in
  ``content`` between ``<think>`` tags (what MiniMax sends such a client).
* Textual's floor (bench/textual_floor.py, this checkout's Textual, no hailuo-tui code): a bare Textual app that
  takes the same stream (aiohttp, ``json.loads``) and writes it to Textual's ``Log`` widget 4 times a second
  (``textual-log-4fps``, run by default: hailuo-tui's slowest drawing cadence) or 15 times (``textual-log``, its
  fastest); ``textual-ingest`` takes the stream and draws nothing until the end; ``textual-markdown`` (Textual's
  streaming Markdown widget) and ``textual-plain`` (the whole text in
  a Static every 50 ms) show what the straightforward Textual ways cost.
* Runs are interleaved (hailuo-tui, elia, oterm, hailuo-tui, …; paced then burst in each round) so drift in
  the machine's load hits all alike; the tables show medians [min–max].

Never run as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import api_stream as api  # noqa: E402
from api_stream import Client  # noqa: E402
from openai_fake import MODEL, FakeServer  # noqa: E402

ANCHORS = {"elia": ("elia-chat", "1.10.0", "elia"), "oterm": ("oterm", "0.26.1", "oterm")}
#: The anchors' figures in issue 14 (its own earlier run), shown for orientation only: never compared.
ISSUE_FIGURES = {
    "elia": {"paced": {"cpu_s": 36.1, "lag_s": 14.4, "peak_rss_mb": 325}, "burst": {"cpu_s": 32.9, "lag_s": 30.4}},
    "oterm": {"paced": {"cpu_s": 19.4, "lag_s": 0.8, "peak_rss_mb": 314}, "burst": {"cpu_s": 14.6, "lag_s": 14.4}},
}


def anchors_dir() -> Path:
    from app_scale import cache_dir

    return cache_dir() / "anchors"


def venv_of(name: str) -> Path:
    package, version, _ = ANCHORS[name]
    return anchors_dir() / f"{name}-{version}"


def ensure_venv(name: str) -> Path:
    """The anchor's virtualenv, created and installed once (the installed version is checked every time).

    Raises:
        RuntimeError: when it cannot be built (the pip output's tail in the message).
    """
    package, version, script = ANCHORS[name]
    venv = venv_of(name)
    python = venv / "bin" / "python"
    if python.exists() and (venv / "bin" / script).exists():
        probe = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
                               capture_output=True, text=True, timeout=60)
        if probe.stdout.strip() == version:
            return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"(installing {package}=={version} into {venv}, once)", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          f"{package}=={version}"], capture_output=True, text=True, timeout=900)
    if pip.returncode != 0 or not (venv / "bin" / script).exists():
        shutil.rmtree(venv, ignore_errors=True)
        raise RuntimeError(f"pip install {package}=={version} failed: {(pip.stderr or pip.stdout)[-600:]}")
    return venv


def _anchor_env(env: dict[str, str]) -> None:
    env.update({
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENAI_API_KEY": "bench-key",
        "PYTHONDONTWRITEBYTECODE": "1",
    })


def _elia(fake: FakeServer, tmpdir: Path, env: dict[str, str]) -> str:
    _anchor_env(env)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # litellm fetches a price list from GitHub at import otherwise
    config = Path(env["XDG_CONFIG_HOME"]) / "elia" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'default_model = "bench"\n'
        'theme = "nebula"\n\n'
        "[[models]]\n"
        'id = "bench"\n'
        f'name = "openai/{MODEL}"\n'
        'display_name = "Bench model"\n'
        'provider = "Bench"\n'
        f'api_base = "{fake.url}"\n'
        'api_key = "bench-key"\n',
        encoding="utf-8",
    )
    return f"exec {shlex.quote(str(venv_of('elia') / 'bin' / 'elia'))}"


def _oterm(fake: FakeServer, tmpdir: Path, env: dict[str, str]) -> str:
    _anchor_env(env)
    data = tmpdir / "oterm"
    data.mkdir()
    env["OTERM_DATA_DIR"] = str(data)
    env["OLLAMA_URL"] = fake.root_url  # never used by the chat (openai-compat), but keeps it off 11434
    (data / "config.json").write_text(json.dumps({
        "theme": "textual-dark", "splash-screen": False,
        "openaiCompatible": {"bench": {"base_url": fake.url, "api_key": "bench-key"}},
    }), encoding="utf-8")
    # One chat on that endpoint, made through oterm's own store (its schema and migrations stay its own).
    make_chat = (
        "import asyncio\n"
        "from oterm.store.store import Store\n"
        "from oterm.types import ChatModel\n"
        "async def main():\n"
        "    store = await Store.get_store()\n"
        f"    await store.save_chat(ChatModel(name='bench', model={MODEL!r}, provider='openai-compat/bench'))\n"
        "asyncio.run(main())\n"
    )
    python = venv_of("oterm") / "bin" / "python"
    done = subprocess.run([str(python), "-c", make_chat], env={**env, "PATH": env["PATH"]}, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"oterm: could not create the chat: {done.stderr[-400:]}")
    return f"exec {shlex.quote(str(venv_of('oterm') / 'bin' / 'oterm'))}"


ELIA = Client("elia", _elia, ready="^j", send_key="C-j", quit_key="C-c", stream_timeout=420.0,
              note="elia sends with Ctrl+J (Enter adds a line in its prompt)")
OTERM = Client("oterm", _oterm, ready="bench", stream_timeout=240.0, end_keys=("BTab", "End"),
               note="oterm: the chat preset through its store, its OpenAI-compatible endpoint (pydantic-ai); it "
               "stops following an answer that grows fast, so after the last event the bench presses Shift+Tab "
               "(focus the conversation) then End every 0.25 s until the last line shows (its lag is late by "
               "up to that)")


def _textual_floor(flag: str):
    def prepare(fake: FakeServer, tmpdir: Path, env: dict[str, str]) -> str:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return (f"exec {shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'textual_floor.py'))} "
                f"--url {shlex.quote(fake.url)} {flag}")
    return prepare


#: bench/textual_floor.py: the same stream shown by a bare Textual app (this checkout's Textual): with Textual's
#: streaming Markdown widget, as unparsed text in a Static, and in Textual's Log widget (the floor).
TEXTUAL_LOG = Client("textual-log", _textual_floor("--log"), ready="Message",
                     note="textual-log: the floor, a bare Textual app writing the deltas of each 1/15 s to "
                     "Textual's Log widget (no Markdown, no wrapping; only visible lines drawn)")
TEXTUAL_LOG_4 = Client("textual-log-4fps", _textual_floor("--log --every 0.25"), ready="Message",
                       note="textual-log-4fps: the same, written every 0.25 s (hailuo-tui's slowest cadence)")
TEXTUAL_INGEST = Client("textual-ingest", _textual_floor("--log --every 1000000"), ready="Message",
                        note="textual-ingest: the same bare app, the text written once at the start and once at "
                        "the end: taking the stream in a running Textual app, nothing drawn")
TEXTUAL_MARKDOWN = Client("textual-markdown", _textual_floor(""), ready="Message",
                          note="textual-markdown: a bare Textual app streaming into Textual's Markdown widget "
                          "(Markdown.get_stream), bench/textual_floor.py")
TEXTUAL_PLAIN = Client("textual-plain", _textual_floor("--plain"), ready="Message",
                       note="textual-plain: the same bare app showing the unparsed text in one Static, updated at "
                       "most every 50 ms (no Markdown at all)")
CLIENTS = {"hailuo-tui": api.HAILUO, "elia": ELIA, "oterm": OTERM, "textual-log": TEXTUAL_LOG,
           "textual-log-4fps": TEXTUAL_LOG_4, "textual-ingest": TEXTUAL_INGEST, "textual-markdown": TEXTUAL_MARKDOWN,
           "textual-plain": TEXTUAL_PLAIN}
#: Run by default: the two anchors and Textual's floor at hailuo-tui's slowest cadence.
DEFAULT_CLIENTS = "hailuo-tui,elia,oterm,textual-log-4fps"


def print_side_by_side(results: dict[str, dict[str, list[dict]]], errors: dict[str, str]) -> None:
    """One row per figure and mode, a column per app; hailuo-tui's cell with issue 14's target and ✓/✗."""
    names = list(results)
    modes = [m for m in ("paced", "burst") if any(m in results[n] for n in names)]
    width = 24
    print(f"{'figure':<22}" + "".join(f"{n:<{width}}" for n in names) + "target (hailuo-tui)")
    for mode in modes:
        for key, label, fmt in api.TABLE_ROWS:
            if key in ("thinking_s", "events_per_s"):
                continue
            row = f"{label + ' ' + mode:<22}"
            for name in names:
                values = [r[key] for r in results[name].get(mode, []) if key in r]
                cell = api.spread(values, fmt) if values else ("n/a" if name in errors else "—")
                if name == "hailuo-tui" and values and key in api.TARGETS[mode]:
                    cell += " " + api.verdict(values, api.TARGETS[mode][key])
                row += f"{cell:<{width}}"
            target = api.TARGETS[mode].get(key)
            print(row + (f"≤ {target:g}" if target is not None else ""))
    print("issue 14's own earlier anchor figures (another run, for orientation only): " + "; ".join(
        f"{n} {m} CPU {f['cpu_s']:g} s lag {f['lag_s']:g} s" for n, modes_ in ISSUE_FIGURES.items()
        for m, f in modes_.items()))
    for name, error in errors.items():
        print(f"{name}: NOT MEASURED: {error}")
    for name in names:
        if CLIENTS[name].note:
            print(f"note: {CLIENTS[name].note}")


def run(runs: int, names: list[str], rates: list[float | None], hailuo_reasoning: bool, anchor_reasoning: bool,
        show_screen: bool = False) -> tuple[dict, dict, dict]:
    """The interleaved rounds. Returns (hailuo-tui per mode, every app per plain mode, errors per app)."""
    errors: dict[str, str] = {}
    for name in names:
        if name in ANCHORS:
            try:
                ensure_venv(name)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                errors[name] = f"could not install it: {exc}"
    hailuo: dict[str, list[dict]] = {}
    plain: dict[str, dict[str, list[dict]]] = {n: {} for n in names}
    for i in range(runs):
        for rate in rates:
            for name in names:
                reasonings = [False]
                if (name == "hailuo-tui" and hailuo_reasoning) or (name != "hailuo-tui" and anchor_reasoning):
                    reasonings.append(True)
                for reasoning in reasonings:
                    if name in errors:
                        continue
                    mode = api.mode_name(rate, reasoning)
                    try:
                        result = api.measure(CLIENTS[name], rate, reasoning)
                    except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
                        # One failed run of an anchor is reported, not fatal: the others still count.
                        print(f"{name} {mode} run {i + 1}: FAILED: {str(exc)[-1500:]}", flush=True)
                        if name != "hailuo-tui" and not any(plain[name].values()):
                            errors[name] = f"its first run failed: {str(exc).splitlines()[0][:300]}"
                        continue
                    screen = result.pop("screen")
                    print(f"{name} {mode} run {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()),
                          flush=True)
                    if show_screen:
                        print(screen)
                    if name == "hailuo-tui":
                        hailuo.setdefault(mode, []).append(result)
                    plain[name].setdefault(mode, []).append(result)
    return hailuo, plain, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--only", choices=("paced", "burst"), help="one rate only")
    parser.add_argument("--clients", default=DEFAULT_CLIENTS,
                        help=f"comma-separated, in round order, of {', '.join(CLIENTS)} (default {DEFAULT_CLIENTS})")
    parser.add_argument("--no-reasoning", action="store_true", help="no hailuo-tui runs with reasoning")
    parser.add_argument("--anchor-reasoning", action="store_true", help="the anchors with reasoning (inline) too")
    parser.add_argument("--show-screen", action="store_true", help="print the final screen of each run")
    args = parser.parse_args()
    names = [n for n in args.clients.split(",") if n]
    unknown = [n for n in names if n not in CLIENTS]
    if unknown:
        parser.error(f"unknown clients: {unknown}")
    rates = [r for r in (api.PACED_RATE, None) if args.only in (None, "paced" if r else "burst")]
    api.header(args.runs)
    print("anchors: " + ", ".join(f"{n} {ANCHORS[n][1]} ({venv_of(n)})" for n in names if n in ANCHORS) + "\n")
    hailuo, plain, errors = run(args.runs, names, rates, not args.no_reasoning, args.anchor_reasoning,
                                args.show_screen)
    if "hailuo-tui" in names:
        print("\n-- hailuo-tui, MiniMax API backend (every mode) --")
        api.print_hailuo_table(hailuo)
    print("\n-- side by side: the same fake server, the same answer, the same terminal --")
    print_side_by_side({n: {m: v for m, v in plain[n].items() if "+" not in m} for n in names}, errors)


if __name__ == "__main__":
    main()
