"""'Meine Angebote' with Pilot, against the real reference server: a provider creates an offering,
publishes it after the catalog preview, and a customer finds it in the catalog after a sync; two
clients edit the same offering (412 → merged, the clashes chosen per field, nothing lost); checks as typed;
the draft survives closing the form; usage reporting by hand."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth
from textual.widgets import Static

from efa_tui import formatting, i18n
from efa_tui.screens.catalog import CatalogScreen
from efa_tui.screens.confirm import ConfirmScreen
from efa_tui.screens.edit_conflict import EditConflictScreen
from efa_tui.screens.my_offerings import MyOfferingsScreen, PreviewScreen
from efa_tui.screens.offering_form import OfferingFormScreen
from efa_tui.screens.usage import ReplaceDialog, UsageFormScreen, UsageScreen


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


async def open_my_offerings(pilot) -> MyOfferingsScreen:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MyOfferingsScreen), screen
    return screen


def select_row(screen: MyOfferingsScreen, offering_id: int) -> None:
    table = screen.table
    table.move_cursor(row=table.get_row_index(str(offering_id)))


def select_published(screen: MyOfferingsScreen) -> dict:
    offering = next(o for o in screen.offerings.values() if o.status == "published")
    select_row(screen, offering.id)
    return offering.model_dump(mode="json")  # as the server sent it


async def edit_a_published_offering(pilot, screen: MyOfferingsScreen):
    """The cursor on a published offering, ``e``: (the offering, the screen that opened)."""
    offering = select_published(screen)
    await pilot.press("e")
    await settle(pilot)
    return offering, pilot.app.screen


async def type_into(pilot, form_screen: OfferingFormScreen, name: str, text: str) -> None:
    control = form_screen.form.control(name)
    control.focus()
    control.value = ""
    await pilot.press(*text)


def server_get(base: str, who: str, path: str, **params) -> httpx.Response:
    return httpx.get(base + path, headers=auth(who), params=params)


def saved_by_colleague(base: str, oid: int, changes: dict) -> httpx.Response:
    """Another admin (a second client) saves the offering first, against its current version."""
    current = server_get(base, "provider", f"/offerings/{oid}")
    return httpx.patch(f"{base}/offerings/{oid}", json=changes, headers=auth("provider", **{"If-Match": current.headers["etag"]}))


async def test_provider_creates_publishes_and_a_customer_sees_it_after_a_sync(server, tmp_path):
    title = "Digitale Hundesteuer-Anmeldung Testkreis"
    customer_dir = tmp_path / "customer"
    customer_dir.mkdir()
    # The customer's catalog before: synced, without the new offering.
    customer = make_app(server, customer_dir, identity="customer")
    async with customer.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert customer.cache.offering_count() > 10
        assert customer.cache.search(title).total == 0

    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_my_offerings(pilot)
        before = screen.table.row_count
        assert before > 0 and "veröffentlicht" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, OfferingFormScreen)
        await type_into(pilot, form, "title", title)
        await type_into(pilot, form, "annual_fee", "abc")
        await pilot.pause()
        assert form.form.errors.get("annual_fee") == i18n.t("offering.err.money")  # checked as typed
        await type_into(pilot, form, "annual_fee", "1.250,00")
        await pilot.pause()
        assert "annual_fee" not in form.form.errors
        form.form.set_value("summary", "Hundesteuer online an- und abmelden.")
        form.form.set_value("category", "Steuern & Zoll")
        form.form.set_value("contact_email", "hundesteuer@akdb.de")
        form.form.set_value("distribution_key", "per_inhabitant")
        await pilot.pause()
        await pilot.press("ctrl+s")  # per inhabitant needs a unit price: refused at the field
        await settle(pilot)
        assert app.screen is form and "unit_price" in form.form.errors
        form.form.set_value("unit_price", "12,50")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MyOfferingsScreen)
        created = [o.model_dump(mode="json") for o in screen.offerings.values() if o.title == title]
        assert len(created) == 1 and created[0]["status"] == "draft"
        fees = created[0]["fees"]
        assert (fees["annual_fee"], fees["one_time_fee"], fees["distribution_key"], fees["unit_price"], fees["vat_rate"]) == (
            "1250.00", "0.00", "per_inhabitant", "12.50", "19.00")
        assert screen.table.row_count == before + 1
        oid = created[0]["id"]
        assert server_get(server, "customer", f"/offerings/{oid}").status_code == 404  # a draft: not in the catalog
        assert screen.table.cursor_key == str(oid)  # the new draft under the cursor, for `v` and `p` next

        select_row(screen, oid)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PreviewScreen)
        preview = screen_text(app)
        assert title in preview and "Entgelte" in preview and "1.250,00 €" in preview  # the catalog's own detail view
        assert "Beschreibung" in preview and "im Katalog fehlt noch" in preview  # no description yet: said before publishing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MyOfferingsScreen)
        assert screen.offerings[oid].status == "published"
        assert app.session.outbox.counts() == {"done": 2}

    async with make_app(server, customer_dir, identity="customer").run_test(size=(120, 40)) as pilot:
        await settle(pilot)  # the start-up sync
        capp = pilot.app
        assert capp.cache.search(title).total == 1
        assert isinstance(capp.screen, CatalogScreen)
        capp.screen.set_filter("Hundesteuer-Anmeldung")
        await settle(pilot)
        assert title in screen_text(capp)


async def test_two_admins_edit_the_same_offering_merge_then_choose_per_field(server, tmp_path):
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_my_offerings(pilot)
        offering, form = await edit_a_published_offering(pilot, screen)
        oid = offering["id"]
        assert isinstance(form, OfferingFormScreen) and form.etag

        # The other admin (a second client) saves first: a new summary and a new annual fee.
        theirs = saved_by_colleague(server, oid, {"summary": "Von der Kollegin überarbeitet.", "annual_fee": "999.00"})
        assert theirs.status_code == 200, theirs.text

        new_title = offering["title"] + " (neu)"
        form.form.set_value("title", new_title)
        form.form.set_value("annual_fee", "1.111,00")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        conflict = app.screen
        assert isinstance(conflict, EditConflictScreen)
        # Only the field both changed asks; the summary (theirs only) and the title (mine only) do not.
        assert [c.name for c in conflict.clashes] == ["annual_fee"]
        text = screen_text(app)
        assert "Bearbeitungskonflikt" in text and "1.111,00" in text and "999,00" in text
        assert "Kurzbeschreibung" in text  # named as taken over without a clash
        assert app.session.outbox.counts().get("conflict", 0) == 0  # the refused write is not left behind

        await pilot.press("ctrl+s")  # nothing chosen yet: it asks, sends nothing
        await settle(pilot)
        assert app.screen is conflict
        assert server_get(server, "provider", f"/offerings/{oid}").json()["title"] == offering["title"]

        await pilot.press("1")  # mine
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MyOfferingsScreen)
    final = server_get(server, "provider", f"/offerings/{oid}")
    assert final.json()["title"] == new_title and final.json()["summary"] == "Von der Kollegin überarbeitet."
    assert final.json()["fees"]["annual_fee"] == "1111.00"
    assert final.json()["version"] == theirs.json()["version"] + 1  # saved on their version (If-Match)


async def test_a_clashing_description_shows_both_texts_whole_and_can_be_edited(server, tmp_path):
    """At 80x24 the colleague's sentence is there in full next to mine (it was cut at 20 columns),
    and the third way — my own wording, prefilled with mine — is what the server gets."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_my_offerings(pilot)
        offering, form = await edit_a_published_offering(pilot, screen)
        oid = offering["id"]
        colleague = "Antrag online stellen. Neu: Anmeldung auch mit dem BundID-Konto der Bürgerinnen möglich."
        mine = "Antrag online stellen, Bescheid kommt als PDF in das Postfach."
        theirs = saved_by_colleague(server, oid, {"description": colleague})
        assert theirs.status_code == 200, theirs.text
        form.form.set_value("description", mine)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditConflictScreen)
        text = " ".join(screen_text(app).replace("│", " ").split())  # wrapped lines, joined again
        assert "Neu: Anmeldung auch mit dem BundID-Konto der Bürgerinnen möglich." in text  # theirs, whole
        assert "Bescheid kommt als PDF in das Postfach." in text  # mine, whole

        await pilot.press("3")  # edit: my text to start from
        await settle(pilot)
        editor = app.screen.query_one("#edit-description")
        assert editor.has_focus and editor.text == mine
        await pilot.press("end", *" BundID geht auch.")
        await pilot.press("escape")  # out of the editor, not out of the view
        await settle(pilot)
        assert isinstance(app.screen, EditConflictScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MyOfferingsScreen)
    final = server_get(server, "provider", f"/offerings/{oid}").json()
    assert final["description"] == mine + " BundID geht auch."
    assert final["version"] == theirs.json()["version"] + 1


async def test_an_edit_refused_with_412_in_the_outbox_is_settled_in_the_conflict_view(server, tmp_path):
    """Saved while the server was away, the edit waited in the outbox; meanwhile a colleague saved a
    new summary and fee; the flush met 412. In the outbox `e` shows the clash (both summaries), the
    choice goes into the offering's form on the colleague's version, ctrl+s saves: nothing lost."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        me = server_get(server, "provider", "/me").json()
        offering = server_get(server, "provider", "/offerings", provider=me["organization"]["id"]).json()["items"][0]
        oid = offering["id"]
        etag = server_get(server, "provider", f"/offerings/{oid}").headers["etag"]
        theirs = saved_by_colleague(server, oid, {"summary": "Von der Kollegin.", "one_time_fee": "123.00"})
        assert theirs.status_code == 200, theirs.text
        item = app.session.outbox.enqueue("offering.patch", "PATCH", f"/offerings/{oid}", {"summary": "Meine Fassung."},
                                          if_match=etag, label="Angebot bearbeiten", related=f"offering:{oid}")
        await app.connection.flush()
        assert app.session.outbox.get(item.id).state == "conflict"
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot, 4)
        conflict = app.screen
        assert isinstance(conflict, EditConflictScreen), conflict
        assert [c.name for c in conflict.clashes] == ["summary"]
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert "Von der Kollegin." in text and "Meine Fassung." in text
        await pilot.press("1")  # mine
        await pilot.press("ctrl+s")
        await settle(pilot, 4)
        form = app.screen
        assert isinstance(form, OfferingFormScreen) and form.form.value("summary") == "Meine Fassung."
        assert app.session.outbox.counts().get("conflict", 0) == 0  # the form's draft holds it now
        await pilot.press("ctrl+s")
        await settle(pilot, 4)
    final = server_get(server, "provider", f"/offerings/{oid}").json()
    assert final["summary"] == "Meine Fassung." and final["fees"]["one_time_fee"] == "123.00"
    assert final["version"] == theirs.json()["version"] + 1  # saved on their version (If-Match)


async def test_the_draft_of_a_new_offering_survives_closing_the_form(server, tmp_path):
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_my_offerings(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_into(pilot, app.screen, "title", "Halbfertiges Angebot")
        await settle(pilot)
        await pilot.press("escape")  # left with changes: asked what becomes of them
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("b")  # als Entwurf behalten
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, OfferingFormScreen) and form.restored
        assert form.form.value("title") == "Halbfertiges Angebot"


async def test_retire_after_preview_and_usage_report_by_hand(server, tmp_path):
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_my_offerings(pilot)
        offering = select_published(screen)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, PreviewScreen) and "Zurückziehen?" in screen_text(app)
        await pilot.press("escape")  # cancelled: nothing sent
        await settle(pilot)
        assert app.session.outbox.counts() == {} and screen.offerings[offering["id"]].status == "published"
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.offerings[offering["id"]].status == "retired"
        assert server_get(server, "customer", f"/offerings/{offering['id']}").json()["status"] == "retired"

        await pilot.press("u")
        await settle(pilot)
        usage = app.screen
        assert isinstance(usage, UsageScreen)
        if not usage.contracts:
            pytest.skip("the demo provider has no running per-case contract")
        rows_before = usage.query_one("#usage").row_count
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UsageFormScreen)
        assert form.form.value("order_id") == ""  # no contract preselected: the provider picks one
        # A month already reported: the figure is replaced only after old → new was shown and confirmed.
        oid, year, month, old = next((r.order_id, r.year, r.month, r.cases) for r in usage.reports
                                     if r.order_id in usage.contracts and r.cases != 1234)
        form.form.set_value("order_id", str(oid))
        form.form.set_value("period", f"{month:02d}/{year}")
        form.form.set_value("cases", "1.234")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReplaceDialog)
        assert f"{formatting.number(old)} → 1.234" in str(dialog.query_one("#replace-text", Static).render())
        await pilot.press("escape")  # not confirmed: nothing sent
        await settle(pilot)
        assert app.screen is form
        assert {(r["month"], r["cases"]) for r in server_get(server, "provider", "/usage", order_id=oid, year=year).json()["items"]} \
            >= {(month, old)}
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the send key again is no answer (walk M10: C-s C-s replaced unread)
        await settle(pilot)
        assert isinstance(app.screen, ReplaceDialog)
        await pilot.press(i18n.t("key.yes"))  # replace
        await settle(pilot)
        assert app.screen is usage
        reports = server_get(server, "provider", "/usage", order_id=oid, year=year).json()["items"]
        assert {(r["month"], r["cases"]) for r in reports} >= {(month, 1234)}
        assert usage.query_one("#usage").row_count >= rows_before


def test_every_message_of_these_screens_exists_in_both_languages():
    """Binding descriptions and the ids these screens build at run time (test_i18n sees only literal ids)."""
    from efa_tui.domain import offering_rules as rules
    from efa_tui.screens.offering_form import LABELS
    from efa_tui.screens.records import RecordScreen
    from efa_tui.screens.support import SupportScreen, TrailScreen
    from efa_tui.screens.usage import UsageImportScreen
    from efa_tui.store.record_search import INVOICE_STATES

    screens = (MyOfferingsScreen, PreviewScreen, OfferingFormScreen, EditConflictScreen, UsageScreen, UsageFormScreen,
               UsageImportScreen, ReplaceDialog, SupportScreen, TrailScreen, RecordScreen)
    ids = {b.description for cls in screens for b in cls.BINDINGS}
    ids |= {f"offering.status.{s}" for s in ("draft", "published", "retired")}
    ids |= {f"offering.maturity.{m}" for m in rules.MATURITIES} | set(LABELS.values())
    ids |= {f"invoices.state.{s}" for s in INVOICE_STATES}
    ids |= {f"usage.col.{c}" for c in ("customer", "offering", "order", "period", "cases")}
    ids |= {f"support.col.orders.{c}" for c in ("number", "org", "other", "state", "date")}
    ids |= {f"support.col.invoices.{c}" for c in ("number", "org", "gross", "state", "date")}
    ids |= {f"support.{k}.{kind}" for k in ("kind", "raw") for kind in ("orders", "invoices")}
    ids |= {f"offerings.{k}.{a}" for k in ("label", "done", "confirm", "preview") for a in ("publish", "retire")}
    ids |= {"offerings.preview.show", "offering.err.months_24", "offering.err.months_120"}
    missing = sorted(i for i in ids if i not in i18n.MESSAGES)
    assert not missing, missing


async def test_usage_csv_import_names_bad_lines_and_sends_a_good_file(server, tmp_path):
    from efa_tui.screens.usage import UsageImportScreen

    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_my_offerings(pilot)
        await pilot.press("u")
        await settle(pilot)
        usage = app.screen
        assert isinstance(usage, UsageScreen)
        if not usage.contracts:
            pytest.skip("the demo provider has no running per-case contract")
        oid = sorted(usage.contracts)[0]
        bad = tmp_path / "falsch.csv"
        bad.write_text(f"Bestellung;Zeitraum;Fälle\n{oid};13/2025;5\n999999;02/2025;4\n", encoding="utf-8")
        # A month already reported (replaced only after old → new is confirmed) and the running month.
        old = min((r for r in usage.reports if r.order_id == oid), key=lambda r: (r.year, r.month))
        today = date.today()
        good = tmp_path / "fallzahlen.csv"
        good.write_bytes(f"Bestellung;Zeitraum;Fälle\n#{oid};{old.month:02d}/{old.year};1.500\n"
                         f"{oid};{today.year}-{today.month:02d};17\n".encode("cp1252"))

        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsageImportScreen)
        await pilot.press(*str(bad), "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "2 Fehler – nichts gesendet" in text and "Zeile 2: Zeitraum „13/2025“ nicht lesbar" in text
        assert "Zeile 3: Bestellung 999999 ist kein laufender Vertrag" in text
        await pilot.press("ctrl+s")  # nothing is sent from a file with errors
        await settle(pilot)
        assert app.screen is screen and app.session.outbox.counts() == {}

        screen.query_one("#import-path").value = str(good)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "2 Zeilen geprüft" in text and f"{formatting.number(old.cases)} → 1.500" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReplaceDialog)  # the replacement is confirmed first
        await pilot.press("ctrl+s")  # not by the send key again
        await settle(pilot)
        assert isinstance(app.screen, ReplaceDialog) and app.session.outbox.counts() == {}
        await pilot.press("j")
        await settle(pilot)
        assert app.screen is usage
        assert app.session.outbox.counts() == {"done": 2}
    reports = server_get(server, "provider", "/usage", order_id=oid).json()["items"]
    assert {(r["year"], r["month"], r["cases"]) for r in reports} >= {(old.year, old.month, 1500), (today.year, today.month, 17)}


async def test_offline_retire_waits_in_the_outbox_and_the_row_says_so(server, tmp_path):
    import asyncio

    from efa_tui.files import free_port

    # The cache synced while online (in a thread: outside the event loop), then the server is gone.
    app = await asyncio.to_thread(make_app, server, tmp_path, identity="provider", start_network=False)
    app.session.api._args = (f"http://127.0.0.1:{free_port()}/api/v1", app.session.api._args[1])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_my_offerings(pilot)
        offering = select_published(screen)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.session.outbox.counts() == {"pending": 1}
        assert offering["id"] in screen.waiting
        row = screen.table.get_row(str(offering["id"]))
        assert row[1].plain == "veröffentlicht · ausstehend"
        await pilot.press("e")  # editing needs the current version from the server: said, not crashed
        await settle(pilot)
        assert isinstance(app.screen, MyOfferingsScreen)


async def test_a_conflict_without_a_clash_is_merged_and_saved(server, tmp_path):
    """The colleague changed the terms, I the phone number: nothing to choose — both are kept and
    saved against their version."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_my_offerings(pilot)
        offering, form = await edit_a_published_offering(pilot, screen)
        oid = offering["id"]
        theirs = saved_by_colleague(server, oid, {"contract_terms": "Neue Vertragsbedingungen der Kollegin."})
        assert theirs.status_code == 200
        form.form.set_value("contact_phone", "+49 89 5903-1234")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MyOfferingsScreen)
    final = server_get(server, "provider", f"/offerings/{oid}").json()
    assert final["contract_terms"] == "Neue Vertragsbedingungen der Kollegin."  # theirs, kept
    assert final["contact"]["phone"] == "+49 89 5903-1234"  # mine
    assert final["version"] == theirs.json()["version"] + 1


async def test_catalog_counts_stay_right_after_a_publish_and_a_retire(server, tmp_path):
    """The catalog's "N von M Angeboten" is read anew when an offering is published or retired
    (the data_changed signal), not kept from before: once it said "83 von 82 Angeboten"."""
    from efa_tui import formatting
    from efa_tui.screens.catalog import CatalogScreen

    def counted(app) -> str:
        catalog = next(s for s in app._area_screens() if isinstance(s, CatalogScreen))
        return str(catalog.query_one("#count").render())

    def right(app) -> str:  # no filter: every offering of the catalog is shown
        n = app.cache.search("").total
        return i18n.tn("catalog.count", n, shown=formatting.number(n))

    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert counted(app).startswith(right(app))
        screen = await open_my_offerings(pilot)
        offering = select_published(screen)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.offerings[offering["id"]].status == "retired"
        await pilot.press("1")
        await settle(pilot)
        assert counted(app).startswith(right(app))
        await pilot.press("4")
        await settle(pilot)
        select_row(screen, offering["id"])
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.offerings[offering["id"]].status == "published"
        await pilot.press("1")
        await settle(pilot)
        assert counted(app).startswith(right(app))


async def test_the_header_names_the_sub_screen_an_area_key_brings_back(server, tmp_path):
    """Walk F4: `4 u`, then `1 4` came back to the usage list under the header "Meine Angebote",
    and the letters typed as if on the offerings list ran the usage list's commands."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_my_offerings(pilot)
        assert "Meine Angebote ›" not in screen_text(app).splitlines()[0]
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsageScreen)
        assert "Meine Angebote › Nutzung" in screen_text(app).splitlines()[0]
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, UsageScreen)
        assert "Meine Angebote › Nutzung" in screen_text(app).splitlines()[0]
        await app.action_toggle_language()  # the sub-screen's name follows the language
        await settle(pilot)
        assert "My offerings › Usage" in screen_text(app).splitlines()[0]
    i18n.set_language("de")


async def test_the_preview_scrolls_by_the_keys_of_every_detail(server, tmp_path):
    """`v` at 80x24: the yearly cost and the description lie below; j/G/ctrl+d did nothing there
    (only the arrows scrolled), as in no other detail (helper walk)."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_my_offerings(pilot)
        select_published(screen)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, PreviewScreen)
        scroll = app.screen.query_one("#preview")
        assert scroll.max_scroll_y > 0  # more than one screen
        await pilot.press("j")
        await settle(pilot)
        assert scroll.scroll_y == 1
        await pilot.press("G")
        await settle(pilot)
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("g")
        await settle(pilot)
        assert scroll.scroll_y == 0
