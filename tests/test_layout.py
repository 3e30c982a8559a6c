"""80x24: what matters is not cut — the rules of layout, each read off the rendered lines.

* Wrapped lines in a detail continue under their text (a label's value under the value, an
  indented paragraph under its indent), not at column 0 (widgets/detail_text.py).
* Table columns are sized by their content: a state column as wide as the states shown
  ("gekündigt zum 30.04.2027" in full), a short column no wider than its header and cells, the
  names and titles take the rest (widgets/virtual_table.py, widgets/lists.py).
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from app_support import fix_clock, make_app, settle, table_of
from rich.console import Console
from rich.text import Text
from support import auth

from efa_tui import formatting, i18n
from efa_tui.widgets.detail_text import Hanging, label
from efa_tui.widgets.virtual_table import Column, column_widths

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch, today=date(2026, 11, 27))
    yield
    i18n.set_language("de")


def screen_lines(app) -> list[str]:
    """The terminal's lines as the user sees them (the compositor's output, one per row)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def rendered(text: Text, width: int) -> list[str]:
    console = Console(width=width, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(Hanging(text))
    return capture.get().rstrip("\n").split("\n")


# --- hanging indents --------------------------------------------------------------------------------


def test_a_labelled_value_that_wraps_continues_under_the_value():
    text = Text()
    label(text, "  Bereitsteller: ", "bold")
    text.append("regio iT gesellschaft für informationstechnologie mbh")
    lines = rendered(text, 40)
    assert lines[0].startswith("  Bereitsteller: regio iT")
    assert len(lines) > 1 and all(line.startswith(" " * 17) and line[17] != " " for line in lines[1:]), lines


def test_an_indented_paragraph_continues_under_its_indent_and_plain_text_at_the_margin():
    text = Text("    " + "Wir möchten das Angebot für unsere Stadt nutzen. " * 3 + "\n" + "frei " * 12)
    lines = rendered(text, 40)
    paragraph, plain = lines[:-2], lines[-2:]
    assert all(line.startswith("    ") and line[4] != " " for line in paragraph), lines
    assert plain[1].startswith("frei"), lines


def test_a_label_wider_than_half_the_line_leaves_the_value_the_width_under_the_indent():
    text = Text()
    label(text, "  " + "Sehr langer Beschriftungstext " * 2 + ": ")
    text.append("8.586,22 € netto und noch ein paar Worte dazu")
    assert all(line.startswith("  ") and line[2] != " " for line in rendered(text, 50)[1:])


def test_an_amount_keeps_its_unit_and_its_label_when_the_line_wraps():
    # Babel writes "564.589,36\xa0€"; Rich alone breaks there and puts the "€" on a line of its own,
    # and at any space: "offen" at the end of one line, its amount alone on the next.
    text = Text("Σ 65 Rechnungen · netto 708.295,49 € · brutto 815.927,55 € · offen " + formatting.money("564589.36"))
    lines = [line.replace("\xa0", " ") for line in rendered(text, 78)]
    assert lines[-1].strip() == "offen " + formatting.money("564589.36").replace("\xa0", " "), lines
    assert lines[0].rstrip().endswith("815.927,55 € ·"), lines


def test_a_part_longer_than_the_line_still_wraps_at_its_spaces():
    text = Text("Verlauf · " + "ein sehr langer Teil ohne Trenner " * 3)
    lines = rendered(text, 30)
    assert all(len(line.rstrip()) <= 30 for line in lines) and len(lines) > 3, lines
    words = set(text.plain.split())  # broken at its spaces, not folded inside a word
    assert all(token in words for line in lines for token in line.split()), lines


def long_message_order(server: str) -> int:
    """A customer order whose message is longer than a line at 80 columns."""
    with httpx.Client(base_url=server) as http:
        items = http.get("/orders", params={"sort": "id"}, headers=auth("customer")).json()["items"]
    return next(o["id"] for o in items if len(o.get("message") or "") > 76)


async def test_the_order_message_continues_under_its_indent_at_80_columns(server, tmp_path):
    order = long_message_order(server)
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        await pilot.press("colon", *("space" if c == " " else c for c in f"order {order}"), "enter")
        await settle(pilot, 4)
        lines = screen_lines(app)
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(i18n.t("order.message")))
        message = lines[at + 1:at + 3]
        # Both lines of the message start at its indent (4 cells inside the detail's margin).
        assert message[0].startswith("     Wir"), lines
        assert message[1].startswith("     ") and message[1][5] != " ", lines


# --- columns by content ------------------------------------------------------------------------------


def test_a_fixed_column_is_only_as_wide_as_its_header_and_content():
    columns = [Column("id", "Nr.", width=6, align="right"), Column("title", "Titel"),
               Column("state", "Status", width=24)]
    assert column_widths(columns, 80) == [6, 80 - 1 - 2 - 6 - 24, 24]
    # "10" and "Aktiv": the number column takes its header's 3 cells, the state 6; the title the rest.
    assert column_widths(columns, 80, (2, 30, 5)) == [3, 80 - 1 - 2 - 3 - 6, 6]
    # Never more than its width: a longer text is cut there.
    assert column_widths(columns, 80, (2, 30, 40))[2] == 24


async def test_a_notice_date_in_the_orders_list_is_not_cut_at_80_columns(server, tmp_path):
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        await pilot.press("2")
        await settle(pilot, 4)
        table = table_of(app)
        states = [table.row_at(i)[1][3] for i in range(table.total)]
        notices = [s for s in states if s.lower().startswith("gekündigt zum")]
        assert notices, states
        text = "\n".join(screen_lines(app))
        for notice in notices[:3]:
            assert notice in text, text


async def test_the_usage_list_shows_its_order_header_in_full_at_80_columns(server, tmp_path):
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        await pilot.press("4")
        await settle(pilot, 4)
        await pilot.press("u")
        await settle(pilot, 4)
        header = next(line for line in screen_lines(app) if line.lstrip().startswith(i18n.t("usage.col.customer")))
        for key in ("order", "period", "cases"):
            assert i18n.t(f"usage.col.{key}") in header, header
        assert len(header.rstrip()) <= 80


# --- the footer ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("identity", "area"), [("customer", "1"), ("provider", "2"), ("operator", "5")])
async def test_the_footer_shows_whole_keys_at_80_columns(server, tmp_path, identity, area):
    """At 80 columns the keys ran under the right-hand group and the last one showed half a word
    ("r Aktualisie"): a key shows whole or not at all, `? Hilfe` always."""
    from textual.widgets._footer import FooterKey

    from efa_tui.widgets.chrome import KeyFooter

    app = make_app(server, tmp_path, identity=identity)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        await pilot.press(area)
        await settle(pilot, 4)
        bottom = screen_lines(app)[-1]
        footer = app.screen.query_one(KeyFooter)
        keys = list(footer.query(FooterKey))
        shown = [k for k in keys if k.display and not any(p.has_class("footer-right") for p in k.ancestors)]
        assert shown, bottom
        for key in shown:
            assert f"{key.key_display} {key.description}" in bottom, (key.description, bottom)
        assert f"? {i18n.t('key.help')}" in bottom, bottom


@pytest.mark.parametrize("language", ["de", "en"])
async def test_a_forms_submit_key_says_what_its_button_says(server, tmp_path, language):
    """The offering form's button says "Speichern"; its footer key said "Senden" (the generic
    label of every form) — after a language switch too."""
    app = make_app(server, tmp_path, identity="provider", language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        await pilot.press("4")  # Meine Angebote
        await settle(pilot, 4)
        await pilot.press("e")
        await settle(pilot, 4)
        bottom = screen_lines(app)[-1]
        assert f"^s {i18n.t('offering.form.save')}" in bottom and i18n.t("key.submit") not in bottom, bottom
        await app.action_toggle_language()
        await settle(pilot, 4)
        bottom = screen_lines(app)[-1]
        assert f"^s {i18n.t('offering.form.save')}" in bottom, bottom


@pytest.mark.parametrize("language", ["de", "en"])
async def test_the_jump_dialog_shows_every_command_at_80_columns(language):
    """Its examples wrap under the box (as the placeholder they were cut after ":invoice …")."""
    from textual.app import App

    from efa_tui.screens.jump import JumpScreen

    class Bare(App):
        def on_mount(self) -> None:
            self.push_screen(JumpScreen())

    i18n.set_language(language)
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = " ".join(screen_lines(app))
    for command in (":orders", ":order 123", ":invoice 2026-000042", ":offering NAME", ":support"):
        assert command in shown, shown


async def test_beside_the_facet_panel_at_80_columns_the_catalog_title_keeps_its_room(server, tmp_path):
    """`f` at 80x24: the titles say what the offerings are (they were cut to 11 letters,
    "Abfallbehäl…", while the provider column kept its 16); the provider is written short."""
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        await pilot.press("f")
        await settle(pilot)
        table = table_of(app)
        title = table.row_at(0)[1][0]
        text = "\n".join(screen_lines(app))
        assert title[:16] in text, text
        assert table.row_at(0)[1][2] in text  # the fee in full, with its unit


async def test_a_focused_authorisation_box_shows_its_whole_text_at_80x24(server, tmp_path):
    """The termination form at 80x24: tabbing to the authorisation box showed its first line
    only ("… diesen Vertrag zum"), the rest behind the buttons, and space ticked it unread. A field
    taking focus comes into view whole: its label, its text, its hint."""
    from test_ordering import jump, synced

    from efa_tui.screens.order_forms import StepForm

    with httpx.Client(base_url=server) as http:
        active = next(o for o in http.get("/orders", params={"state": "active", "limit": 100}, headers=auth("customer")).json()["items"]
                      if not o.get("end_date"))
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=(80, 24)) as pilot:
        await synced(pilot)
        await jump(pilot, f"order {active['id']}")
        await pilot.press("t")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, StepForm)
        while app.focused is not form.form.control("declared"):
            await pilot.press("tab")
        await settle(pilot)
        text = " ".join(" ".join(screen_lines(app)).split())
        assert "zu kündigen" in text, "\n".join(screen_lines(app))
