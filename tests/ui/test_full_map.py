"""textual_compat.keep_full_map_after_reflow: a layout's map of widget places is used, not built twice."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from hailuo_tui.textual_compat import keep_full_map_after_reflow
from tests.ui.conftest import Host


async def _full_arrangements_of_a_layout(keep: bool) -> tuple[int, int, object, object]:
    """Scroll, then mount a widget: how many layouts that took, how many arrangements of the whole
    screen, an off-screen widget's region then, and the region a freshly built map gives."""
    keep_full_map_after_reflow(keep)
    view = VerticalScroll(*(Static(f"line {i}", id=f"s{i}") for i in range(100)))
    app = Host(view)
    try:
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            view.scroll_to(y=30, animate=False, immediate=True)  # reflow_visible: marks the full map stale
            await pilot.pause()
            compositor = app.screen._compositor
            calls = layouts = 0
            arrange, reflow = compositor._arrange_root, compositor.reflow

            def counted(root, size, visible_only=True):
                nonlocal calls
                calls += not visible_only
                return arrange(root, size, visible_only)

            def counted_reflow(parent, size):
                nonlocal layouts
                layouts += 1
                return reflow(parent, size)

            compositor._arrange_root, compositor.reflow = counted, counted_reflow
            await view.mount(Static("new", id="new"), before=0)
            await pilot.pause()
            low = view.query_one("#s90")  # off screen: found in the full map
            region = low.virtual_region
            compositor._arrange_root, compositor.reflow = arrange, reflow
            compositor._full_map_invalidated = True
            fresh = low.virtual_region
            return layouts, calls, region, fresh
    finally:
        keep_full_map_after_reflow(True)


async def test_the_map_a_layout_built_is_the_one_read():
    layouts, calls, region, fresh = await _full_arrangements_of_a_layout(keep=True)
    assert layouts and calls == layouts and region == fresh  # each layout's own, no more


async def test_without_it_textual_arranges_the_screen_again():
    """What the fix rests on: with Textual's own reflow, the first region asked after the layout
    arranges the whole screen once more (if a Textual release fixes this, this test says so)."""
    layouts, calls, region, fresh = await _full_arrangements_of_a_layout(keep=False)
    assert layouts and calls == 2 * layouts and region == fresh
