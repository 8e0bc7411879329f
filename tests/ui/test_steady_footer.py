"""SteadyFooter rebuilds only when the keys it shows change."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from hailuo_tui.widgets.steady_footer import SteadyFooter
from tests.helpers import wait_until


class Plain(Input):
    pass


class WithKey(Input):
    BINDINGS = [Binding("f9", "noop", "Extra key")]

    def action_noop(self) -> None:
        pass


class FooterApp(App):
    BINDINGS = [Binding("f2", "noop", "Shown")]

    def compose(self) -> ComposeResult:
        yield Plain(id="a")
        yield Plain(id="b")
        yield WithKey(id="c")
        yield SteadyFooter()

    def action_noop(self) -> None:
        pass


def _keys(app: App) -> list[str]:
    return [key.description for key in app.query("FooterKey")]


async def test_the_footer_is_rebuilt_only_when_its_keys_change() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        footer = app.query_one(SteadyFooter)
        rebuilt: list[int] = []
        original = footer.recompose

        async def counting():
            rebuilt.append(1)
            return await original()

        footer.recompose = counting
        app.query_one("#a").focus()
        await pilot.pause()
        await wait_until(pilot, lambda: "Shown" in _keys(app), what="the footer's keys")
        before = len(rebuilt)
        app.query_one("#b").focus()  # the same keys shown: no rebuild
        await pilot.pause(0.1)
        assert len(rebuilt) == before and "Extra key" not in _keys(app)
        app.query_one("#c").focus()  # one more key: rebuilt, and it shows
        await wait_until(pilot, lambda: "Extra key" in _keys(app), what="the new key in the footer")
        assert len(rebuilt) == before + 1
        app.query_one("#a").focus()
        await wait_until(pilot, lambda: "Extra key" not in _keys(app), what="the key gone again")
