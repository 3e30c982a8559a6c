"""The binding order's confirmation at 80x24: the authorisation box has a key (`x`), its label
wraps instead of being cut, the fees and the cost are in view or "↓ mehr" says they are below,
an unticked box shows no X in any theme, and unfocused borders can be seen in every theme."""

from __future__ import annotations

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth
from textual.color import Color
from textual.widgets import Static

from efa_tui import THEMES, i18n
from efa_tui.screens.order_detail import ConfirmOrderScreen
from efa_tui.widgets.form import TickBox


def proposed_order(server: str, who: str = "customer") -> int:
    with httpx.Client(base_url=server) as http:
        return http.get("/orders", params={"state": "proposed", "sort": "id"}, headers=auth(who)).json()["items"][0]["id"]


async def until_closed(pilot, screen) -> None:
    """Settle until ``screen`` is no longer on top (the binding order answered), at most 20 rounds."""
    for _ in range(20):
        await settle(pilot)
        if pilot.app.screen is not screen:
            return


async def open_confirmation(app, pilot, order_id: int) -> ConfirmOrderScreen:
    await settle(pilot)
    app.open_record("order", str(order_id))
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmOrderScreen)
    return app.screen


def _luminance(triplet) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = triplet
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast_of_the_bracket(box: TickBox) -> float:
    """WCAG contrast of the box's "[" against what is behind it, as painted."""
    segment = next(s for s in box.render_line(0) if "[" in s.text)
    if segment.style.color.is_default and segment.style.bgcolor.is_default:
        return 21.0  # the terminal's own text on its own background (ansi-dark): as readable as it gets
    fg, bg = (_luminance(c.get_truecolor()) for c in (segment.style.color, segment.style.bgcolor))
    return (max(fg, bg) + 0.05) / (min(fg, bg) + 0.05)


@pytest.mark.parametrize("theme", THEMES)
async def test_an_unticked_box_shows_no_x_and_x_ticks_it(server, tmp_path, theme):
    app = make_app(server, tmp_path, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirmation(app, pilot, proposed_order(server))
        box = screen.query_one("#confirm-check", TickBox)
        assert not box.value and "X" not in str(box.render())
        assert _contrast_of_the_bracket(box) >= 3, "an unticked box one can see (it was black on navy)"
        await pilot.press("ctrl+s")  # at 80x24 the terms and cost are below: first they come into view
        await settle(pilot)
        assert app.screen is screen and screen.seen_all
        assert any("Bedingungen und Kosten werden jetzt angezeigt" in n.message for n in app._notifications)
        await pilot.press("ctrl+s")  # not ticked: nothing is ordered, the box is pointed at
        await settle(pilot)
        assert app.screen is screen and screen.focused is box
        assert any("Berechtigung" in n.message for n in app._notifications)
        await pilot.press("x")
        await settle(pilot)
        assert box.value and "X" in str(box.render())


@pytest.mark.parametrize("language", ["de", "en"])
async def test_the_authorisation_label_wraps_and_more_says_what_is_below(server, tmp_path, language):
    app = make_app(server, tmp_path, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirmation(app, pilot, proposed_order(server))
        assert app.me is not None
        org = app.me.organization.name
        label = screen.query_one("#confirm-check-label", Static)
        words = " ".join(str(label.render()).split())
        assert words == " ".join(f'{i18n.t("confirm.check", org=org)} {i18n.t("confirm.check_key")}'.split())
        shown = " ".join(screen_text(app).split())
        assert i18n.t("confirm.check_key") in shown and "…" not in str(label.render())
        more = screen.query_one("#confirm-more", Static)
        cost = screen.query_one("#confirm-cost", Static)
        scroll = screen.query_one("#confirm-scroll")
        # At 80x24 the cost is below what shows: "↓ mehr" says so, until scrolled to it.
        assert cost.region.y >= scroll.region.bottom - 1
        assert more.display and i18n.t("confirm.more") in screen_text(app)
        await pilot.press("ctrl+d", "ctrl+d", "ctrl+d", "ctrl+d")
        await settle(pilot)
        assert not more.display
        assert scroll.scroll_y == scroll.max_scroll_y


async def test_everything_fits_at_120x40_without_more(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_confirmation(app, pilot, proposed_order(server))
        assert not screen.query_one("#confirm-more", Static).display


@pytest.mark.parametrize("theme", THEMES)
async def test_unfocused_borders_are_visible_in_every_theme(server, tmp_path, theme):
    app = make_app(server, tmp_path, start_network=False, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        variables = app.theme_variables
        blurred = variables["border-blurred"]
        if app.current_theme.ansi:
            assert blurred not in ("ansi_black", "ansi_default", "ansi_white")
        else:
            distance = abs(Color.parse(blurred).brightness - Color.parse(variables["background"]).brightness)
            assert distance > 0.15, (theme, blurred, variables["background"])


async def test_the_binding_order_is_sent_only_after_the_terms_and_cost_were_in_view(server, tmp_path):
    """Walk T15: at 80x24 the contract terms and the cost are below the fold, and `x ctrl+s`
    concluded the contract without them ever on screen."""
    order_id = proposed_order(server)
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_confirmation(app, pilot, order_id)
        assert not screen.seen_all
        await pilot.press("x", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen  # not sent: the rest is in view now
        scroll = screen.query_one("#confirm-scroll")
        assert scroll.scroll_y == scroll.max_scroll_y > 0
        assert httpx.get(f"{server}/orders/{order_id}", headers=auth("customer")).json()["state"] == "proposed"
        # The authorisation is given again after reading: a doubled ctrl+s does not order.
        assert not screen.query_one("#confirm-check", TickBox).value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert httpx.get(f"{server}/orders/{order_id}", headers=auth("customer")).json()["state"] == "proposed"
        await pilot.press("x", "ctrl+s")
        await until_closed(pilot, screen)
    assert httpx.get(f"{server}/orders/{order_id}", headers=auth("customer")).json()["state"] == "ordered"


async def test_nothing_more_to_read_at_120x40_orders_at_once(server, tmp_path):
    # Hamburg's proposal: München's are ordered by the tests before (one server for the module).
    order_id = proposed_order(server, "customer2")
    app = make_app(server, tmp_path, identity="customer-2")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_confirmation(app, pilot, order_id)
        await settle(pilot)
        assert screen.seen_all
        await pilot.press("x", "ctrl+s")
        await until_closed(pilot, screen)
    assert httpx.get(f"{server}/orders/{order_id}", headers=auth("customer2")).json()["state"] == "ordered"
