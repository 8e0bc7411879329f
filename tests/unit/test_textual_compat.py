"""Textual's private API: every name we use exists, with its signature, in the pinned release.

An upgrade that renames or reshapes one of them fails here instead of silently
turning a workaround off. The last tests keep private names from creeping back
in anywhere but hailuo_tui/textual_compat.py.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
import textual
from rich.style import Style
from textual.app import App, ComposeResult
from textual.widget import Widget

from hailuo_tui import textual_compat
from hailuo_tui.textual_compat import PINNED_TEXTUAL, PRIVATE_API, PrivateName, content_style

PACKAGE = Path(textual_compat.__file__).parent
LONG_IME_COMMIT = "\x1b[49;;25105:20204:20170:22825:21435:35199:23433u"  # 我们今天去西安: 49 characters


def _owner(entry: PrivateName) -> object:
    module_name, _, class_name = entry.owner.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name) if class_name else module


def test_textual_is_the_pinned_release():
    assert textual.__version__ == PINNED_TEXTUAL


@pytest.mark.parametrize("entry", PRIVATE_API, ids=lambda e: f"{e.owner}.{e.name}")
def test_private_name_exists_with_its_signature(entry: PrivateName):
    owner = _owner(entry)
    if entry.signature is None:
        if entry.name in getattr(owner, "__slots__", ()):  # a slot (Strip's): declared by the class itself
            return
        # A value: on an instance when it is set in __init__ (Widget()), else on the module.
        holder = owner() if inspect.isclass(owner) else owner
        assert hasattr(holder, entry.name), f"{entry.owner} has no {entry.name} ({entry.used_for})"
        return
    assert hasattr(owner, entry.name), f"{entry.owner} has no {entry.name} ({entry.used_for})"
    assert str(inspect.signature(getattr(owner, entry.name))) == entry.signature, entry.used_for


def test_input_threads_build_the_parser_by_its_global_name():
    """`replace_input_parser` rebinds a module global: it only works while the thread looks it up there."""
    for module_name in textual_compat.INPUT_DRIVERS:
        module = importlib.import_module(module_name)
        drivers = [
            cls for cls in vars(module).values()
            if inspect.isclass(cls) and cls.__module__ == module_name and hasattr(cls, "run_input_thread")
        ]
        assert drivers, module_name
        for driver in drivers:
            assert "XTermParser" in driver.run_input_thread.__code__.co_names, driver


def test_kitty_fix_is_installed_and_decodes_a_long_commit(monkeypatch):
    from textual.drivers import linux_driver, linux_inline_driver

    from hailuo_tui.widgets.kitty_parser import KittyParser, install_kitty_text_fix

    # Undone after the test: the drivers get their own parser back.
    for module in (linux_driver, linux_inline_driver):
        monkeypatch.setattr(module, "XTermParser", module.XTermParser)

    assert install_kitty_text_fix() is True
    assert install_kitty_text_fix() is True  # a second call finds it in place
    for module in (linux_driver, linux_inline_driver):
        assert module.XTermParser is KittyParser
    parser = linux_driver.XTermParser(False)  # as the input thread builds it
    keys = [*parser.feed(LONG_IME_COMMIT), *parser.feed("")]
    assert "".join(getattr(key, "character", "") or "" for key in keys) == "我们今天去西安"


def test_kitty_fix_reports_a_missing_target(monkeypatch):
    from textual.drivers import linux_driver, linux_inline_driver

    from hailuo_tui.widgets.kitty_parser import install_kitty_text_fix

    for module in (linux_driver, linux_inline_driver):
        monkeypatch.delattr(module, "XTermParser")
    assert install_kitty_text_fix() is False


def test_public_hook_names_are_not_textual_names():
    """Our hooks must not shadow a name a later Textual adds to Widget or App."""
    from textual.screen import ModalScreen

    for name in ("handle_size_update", "mark_dirty", "may_restore_anchor"):
        assert not hasattr(Widget, name), name
    assert not hasattr(App, "user_keymap")
    assert not hasattr(App, "_user_keymap")
    assert not hasattr(ModalScreen(), "user_keymap")


class _Styled(Widget):
    COMPONENT_CLASSES = {"probe--em", "probe--code"}
    DEFAULT_CSS = """
    _Styled { color: red; }
    _Styled > .probe--em { text-style: italic; color: $text-accent; }
    _Styled > .probe--code { background: $warning 10%; }
    """


class _Inner(Widget):
    COMPONENT_CLASSES = {"probe--em"}
    DEFAULT_CSS = "_Inner > .probe--em { text-style: bold; }"


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        with _Styled():
            yield _Inner()


async def test_content_style_resolves_as_textual_does():
    """The public-API replacement of Widget._get_style gives the same styles."""
    app = _Host()
    async with app.run_test(size=(40, 5)):
        inner = app.query_one(_Inner)
        styles = [".probe--em", ".probe--code", "bold red", "$text-accent", "not a style ((", "underline"]
        for style in [*styles, ".no-such-class"]:
            assert content_style(inner, style) == inner._get_style(style), style
        assert content_style(inner, ".no-such-class") == textual_compat.Style.null()


# -- no private Textual names outside the compat module -------------------------------------


def _package_sources() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if p.name != "textual_compat.py"]


def test_only_the_compat_module_imports_textual_private_modules():
    offenders = []
    for path in _package_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(re.match(r"(textual|rich)(\.\w+)*\._", n) for n in names):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


def _textual_private_names(cls: type) -> set[str]:
    """Underscore names a Textual class (and its Textual bases) define or set on self."""
    names: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("textual"):
            continue
        names |= {n for n in vars(base) if n.startswith("_") and not n.startswith("__")}
        for member in vars(base).values():
            if inspect.isfunction(member):
                try:
                    names |= set(re.findall(r"self\.(_[A-Za-z]\w*)", inspect.getsource(member)))
                except (OSError, TypeError):
                    pass
    return names


def test_no_widget_overrides_or_reads_a_textual_private_name():
    """Our classes leave Textual's underscore names alone (the compat mixins excepted)."""
    import hailuo_tui.app
    import hailuo_tui.screens
    import hailuo_tui.widgets

    modules = [hailuo_tui.app]
    for package in (hailuo_tui.widgets, hailuo_tui.screens):
        for path in sorted(Path(package.__path__[0]).glob("*.py")):
            modules.append(importlib.import_module(f"{package.__name__}.{path.stem}"))

    class Probe(Widget):  # what Textual's metaclass puts on every class
        pass

    generated = set(vars(Probe))
    offenders = []
    for module in modules:
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            textual_bases = [b for b in cls.__mro__ if b.__module__.startswith("textual")]
            if not textual_bases:
                continue
            # Also generated: a reactive's class default, the ABC cache.
            reactive_defaults = {f"_default_{name}" for name in getattr(cls, "_reactives", {})}
            private = _textual_private_names(textual_bases[0]) - generated - reactive_defaults - {"_abc_impl"}
            ours = [
                c for c in cls.__mro__
                if c.__module__.startswith("hailuo_tui") and c.__module__ != textual_compat.__name__
            ]
            for own in ours:
                defined = {n for n in vars(own) if n.startswith("_")}
                used = set(re.findall(r"(?:self|super\(\))\.(_[A-Za-z]\w*)", inspect.getsource(own)))
                for name in sorted((defined | used) & private):
                    offenders.append(f"{own.__module__}.{own.__name__}.{name}")
    assert sorted(set(offenders)) == [], sorted(set(offenders))


def test_no_module_reads_a_textual_private_name_of_another_object():
    """No ``widget._get_style(...)``: reaching into a Textual object from outside it.

    Our own objects avoid Textual's underscore names too, so that such a read is never ambiguous.
    """
    from textual.screen import Screen
    from textual.widgets import DataTable, Input, OptionList, TextArea

    private: set[str] = set()
    for cls in (App, Screen, Widget, TextArea, Input, OptionList, DataTable):
        private |= _textual_private_names(cls)
    sources = {path: path.read_text(encoding="utf-8") for path in _package_sources()}
    offenders = []
    for path, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in private
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
            elif (  # getattr(self.app, "_keymap", {})
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr", "setattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in private
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.args[1].value!r}")
    assert offenders == []


# -- a terminal that goes away -------------------------------------------------------------------


def _closed_pty_file():
    """A text file on a pty whose other end is closed: writing to it fails with EIO, as to a closed terminal."""
    import os

    master, slave = os.openpty()
    os.close(master)
    return os.fdopen(slave, "w", encoding="utf-8")


def _close(file) -> None:
    try:
        file.close()
    except OSError:  # its buffer could not be flushed to the closed terminal either
        pass


def _stopped_within(thread, seconds: float) -> bool:
    import threading

    stopper = threading.Thread(target=thread.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    return not stopper.is_alive()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # its death, on purpose
def test_textuals_output_thread_dies_on_a_closed_terminal():
    """What `survive_a_closed_terminal` is for: the first failed write ends Textual's own thread,
    and the 30 queued writes that follow would block the app's main thread for good."""
    from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

    file = _closed_pty_file()
    try:
        thread = WriterThread(file)
        thread.start()
        thread.write("a frame")
        thread.join(5)
        assert not thread.is_alive()  # died on EIO
        for _ in range(MAX_QUEUED_WRITES):
            thread.write("another frame")
        assert thread._queue.full()  # the next write (the app's next frame) would wait forever
    finally:
        _close(file)


def test_a_closed_terminal_leaves_the_output_thread_taking_writes():
    import threading

    assert textual_compat.survive_a_closed_terminal()
    import textual.drivers.linux_driver as linux_driver

    file = _closed_pty_file()
    try:
        thread = linux_driver.WriterThread(file)  # as the driver builds it
        thread.start()
        writer = threading.Thread(target=lambda: [thread.write("a frame") for _ in range(200)], daemon=True)
        writer.start()
        writer.join(5)
        assert not writer.is_alive() and thread.is_alive()  # 200 writes taken, none blocked
        assert _stopped_within(thread, 5)
    finally:
        _close(file)


async def test_sigcont_restarts_application_mode_only_after_a_suspend():
    """The driver's SIGCONT handler comes back from its own Ctrl+Z only (see `resume_only_after_suspend`)."""
    import signal

    from textual.drivers.linux_driver import LinuxDriver

    assert textual_compat.resume_only_after_suspend()
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTSTP, signal.SIGCONT)}
    try:
        driver = LinuxDriver(App(), debug=False, mouse=False, size=None)  # installs its SIGTSTP/SIGCONT handlers
        resumed: list[bool] = []
        driver.resume_application_mode = lambda: resumed.append(True)  # type: ignore[method-assign]
        assert driver._must_signal_resume is False  # the flag it sets when it suspends itself
        driver._sigcont_application()  # a SIGCONT out of the blue (a closing terminal, kill -CONT)
        assert resumed == []
        driver._must_signal_resume = True  # after its own suspension (SIGTSTP)
        driver._sigcont_application()
        assert resumed == [True]
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


# -- lines that make their caches when first used ------------------------------------------------


_STYLES = (Style(bold=True), Style(link="https://example.com", color="red"))  # one link id for every line made


def _lines() -> list:
    from rich.segment import Segment
    from textual.strip import Strip

    bold, link = _STYLES
    return [
        Strip([Segment("hello "), Segment("world", bold), Segment(" 我们今天去西安", link)]),
        Strip([Segment("x" * 30, bold)], 30),
        Strip([]),
    ]


def _everything_done_to(line) -> list:
    """What the compositor and our widgets ask of a line, twice (the second time from its caches)."""
    from rich.console import Console
    from textual.color import Color
    from textual.filter import DimFilter

    console = Console(color_system="truecolor", force_terminal=True, width=80)
    out = []
    for _ in range(2):
        out += [
            line.text, line.cell_length, line.render(console), line.link_ids,
            line.divide([2, 7, 12]), line.crop(1, 9), line.crop_extend(3, 40, None),
            line.extend_cell_length(50), line.adjust_cell_length(8, Style(italic=True)),
            line.apply_style(Style(underline=True)), line.apply_filter(DimFilter(), Color(10, 20, 30)),
            line.apply_offsets(4, 5), line.simplify(), line.discard_meta(),
        ]
    return out


def _cache_sizes(line) -> dict[str, int]:
    return {name: getattr(line, name)._maxsize for name in textual_compat.LINE_CACHES}


@pytest.fixture
def lazy_lines():
    """Lines making their caches when first used, as the app makes them; put back so whatever the test did."""
    assert textual_compat.lazy_line_caches()
    yield
    textual_compat.lazy_line_caches()


def _tracked(line) -> list:
    import gc

    return [o for o in gc.get_referents(line) if gc.is_tracked(o) and not isinstance(o, type)]


def test_lazy_lines_make_no_cache_until_one_is_used(lazy_lines):
    from textual.cache import FIFOCache

    textual_compat.lazy_line_caches(False)
    eager = _lines()[0]
    assert textual_compat.lazy_line_caches()
    lazy = _lines()[0]
    # What each full collection walks per line: the line and its segments, not seven empty caches.
    assert sum(isinstance(o, FIFOCache) for o in _tracked(eager)) == 7
    assert [type(o).__name__ for o in _tracked(lazy)] == ["list"]
    lazy.crop(1, 3)
    assert sorted(type(o).__name__ for o in _tracked(lazy)) == ["FIFOCache", "list"]  # the crop's cache only


def test_lazy_lines_draw_and_cache_as_textuals_own(lazy_lines):
    textual_compat.lazy_line_caches(False)
    eager_made = _lines()
    eager = [_everything_done_to(line) for line in eager_made]
    textual_compat.lazy_line_caches()
    lazy_made = _lines()
    lazy = [_everything_done_to(line) for line in lazy_made]
    assert lazy == eager
    assert [_cache_sizes(line) for line in lazy_made] == [_cache_sizes(line) for line in eager_made]
    line = _lines()[0]
    assert line.crop(1, 9) is line.crop(1, 9)  # the second cut comes from the cache, as with Textual's
    assert line.divide([2, 7]) is line.divide([2, 7])


def test_lazy_lines_switched_off_keep_earlier_lines_working(lazy_lines):
    """Off after lines were made without caches (Strip.blank keeps some for good): those still make theirs."""
    made_lazily = _lines()[1]
    textual_compat.lazy_line_caches(False)
    assert _everything_done_to(made_lazily) == _everything_done_to(_lines()[1])
    assert len(_tracked(_lines()[1])) == 8  # new lines are Textual's own again


def test_lazy_lines_leave_a_strip_they_do_not_know_alone(lazy_lines, monkeypatch, caplog):
    from textual.strip import Strip

    textual_compat.lazy_line_caches(False)

    textuals = textual_compat._STRIP_INIT

    def newer_init(self, segments, cell_length=None):  # a release whose lines keep one more thing
        textuals(self, segments, cell_length)
        self._link_ids = set()

    monkeypatch.setattr(textual_compat, "_STRIP_INIT", newer_init)
    assert textual_compat.lazy_line_caches() is False
    assert Strip.__init__ is not textual_compat._line_without_caches
    assert "keep their own caches" in caplog.text
