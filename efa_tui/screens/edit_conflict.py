"""The edit conflict (412): both versions of every field both sides changed, in full, wrapped,
with the words that differ marked; the user chooses per field — mine, the saved one, or an
edit of their own (prefilled with mine).

One view for every edit form that sends If-Match (offerings, organisations, users). The form
merges first (``domain.merge``: a field only one side changed is settled without asking) and
shows this screen only for the clashes; it answers ``{field: value}`` for every clash, or None
(escape: back to the form as it was). Nothing of either side is cut or dropped on the way: both
texts are shown whole and scroll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Static, TextArea

from .. import i18n
from ..domain.merge import Piece, word_diff
from ..text import clean
from ..widgets.form import FormField
from ..widgets.text_box import TextBox
from ..widgets.text_fields import TextField
from .base import AppScreen

MINE, THEIRS, EDIT = "mine", "theirs", "edit"
MARK = "reverse"  # the differing words: readable without colour (NO_COLOR) too


@dataclass(frozen=True)
class Clash:
    """One field both sides changed: its values (as the form holds them) and how they read."""

    name: str
    label: str
    mine: Any
    theirs: Any
    mine_text: str
    theirs_text: str
    editable: bool = True  # a text field: the user may write a third version
    multiline: bool = False


def clash_for(f: FormField, mine: Any, theirs: Any) -> Clash:
    """A form field both sides changed, as this view shows it: a choice by its label, a switch as
    yes/no; only free text can be written anew."""
    options = dict(f.options or [])

    def reads(value: Any) -> str:
        if f.kind == "switch":
            return i18n.t("yes" if value else "no")
        return str(options.get(value, value) if f.kind == "select" else value if value is not None else "")

    return Clash(f.name, i18n.t(f.label), mine, theirs, reads(mine), reads(theirs),
                 editable=f.kind in ("text", "area"), multiline=f.kind == "area")


def marked(pieces: list[Piece]) -> Text:
    """One side's text with its differing words marked (server text: cleaned, markup off)."""
    text = Text()
    for piece in pieces:
        text.append(clean(piece.text, multiline=True), style=MARK if piece.differs else "")
    if not text.plain.strip():
        text = Text(i18n.t("conflict.empty"), style="dim italic")
    return text


class ClashBlock(Vertical, can_focus=True):
    """One clashing field: label, my version, the saved one, the choice (and the editor)."""

    DEFAULT_CSS = """
    ClashBlock { height: auto; border: round $panel-lighten-2; padding: 0 1; margin-bottom: 1; }
    ClashBlock:focus, ClashBlock:focus-within { border: round $accent; }
    ClashBlock .side { height: auto; }
    ClashBlock .version { height: auto; padding-left: 2; }
    ClashBlock .editor { display: none; height: auto; max-height: 10; }
    ClashBlock.editing .editor { display: block; }
    ClashBlock TextArea.editor { height: 6; }
    """

    def __init__(self, clash: Clash, **kwargs: Any):
        super().__init__(**kwargs)
        self.clash = clash
        self.choice: str | None = None
        self.border_title = clean(clash.label)

    def compose(self) -> ComposeResult:
        mine, theirs = word_diff(self.clash.mine_text, self.clash.theirs_text)
        yield Static(id="head-mine", classes="side")
        yield Static(marked(mine), classes="version")
        yield Static(id="head-theirs", classes="side")
        yield Static(marked(theirs), classes="version")
        if self.clash.editable:
            prefill = str(self.clash.mine if self.clash.mine is not None else "")
            if self.clash.multiline:
                yield TextBox(prefill, id=f"edit-{self.clash.name}", classes="editor", soft_wrap=True)
            else:
                yield TextField(prefill, id=f"edit-{self.clash.name}", classes="editor")

    def on_mount(self) -> None:
        self.show_choice()

    def show_choice(self) -> None:
        chosen = Text(" " + i18n.t("conflict.chosen"), style="bold")
        for side, key in ((MINE, "1"), (THEIRS, "2")):
            head = Text()
            head.append(f"[{key}] ", style="bold")
            head.append(i18n.t(f"conflict.{side}"), style="bold" if self.choice == side else "")
            if self.choice == side:
                head.append_text(chosen)
            self.query_one(f"#head-{side}", Static).update(head)
        self.set_class(self.choice == EDIT, "editing")
        self.border_subtitle = (i18n.t("conflict.edited") if self.choice == EDIT
                                else "" if self.choice else i18n.t("conflict.open"))

    def choose(self, choice: str) -> None:
        if choice == EDIT and not self.clash.editable:
            return
        self.choice = choice
        self.show_choice()
        if choice == EDIT:
            editor = self.editor()
            editor.focus(scroll_visible=False)
            # Shown by this very choice: into view once laid out (before, it has no place yet).
            self.call_after_refresh(editor.scroll_visible, animate=False)

    def editor(self) -> Widget:
        return self.query_one(".editor")

    def value(self) -> Any:
        if self.choice == MINE:
            return self.clash.mine
        if self.choice == THEIRS:
            return self.clash.theirs
        editor = self.editor()
        return editor.text if isinstance(editor, TextArea) else editor.value  # type: ignore[attr-defined]


class EditConflictScreen(AppScreen[dict[str, Any] | None]):
    """Settle the clashes field by field; ctrl+s answers the choices (the form saves them)."""

    OWNS_KEYBOARD = True  # a decision to take: area keys off, `q` asks (base.py)
    BINDINGS = [
        Binding("1", "choose('mine')", "conflict.key.mine", id="conflict.mine"),
        Binding("2", "choose('theirs')", "conflict.key.theirs", id="conflict.theirs"),
        Binding("3", "choose('edit')", "conflict.key.edit", id="conflict.edit"),
        Binding("ctrl+s", "save", "conflict.key.save", id="conflict.save"),
        Binding("escape", "back", "key.back", id="conflict.back"),
        Binding("down,j", "scroll('down')", "detail.key.down", show=False, id="conflict.down"),
        Binding("up,k", "scroll('up')", "detail.key.up", show=False, id="conflict.up"),
        Binding("ctrl+d,pagedown", "scroll('page_down')", "detail.key.half_page_down", show=False, id="conflict.page_down"),
        Binding("ctrl+u,pageup", "scroll('page_up')", "detail.key.half_page_up", show=False, id="conflict.page_up"),
    ]
    DEFAULT_CSS = """
    EditConflictScreen { padding: 0 1; }
    EditConflictScreen #conflict-title { text-style: bold; color: $warning; }
    EditConflictScreen #conflict-explain { height: auto; }
    EditConflictScreen #conflict-fields { height: 1fr; }
    """

    def __init__(self, clashes: list[Clash], *, kept: list[str] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.clashes = clashes
        self.kept = list(kept or [])  # labels of the fields only the other side changed (taken as theirs)

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("conflict.title")), id="conflict-title")
        explain = Text(i18n.tn("conflict.explain", n=len(self.clashes)))
        if self.kept:
            explain.append("\n" + i18n.t("conflict.kept", fields=", ".join(clean(k) for k in self.kept)), style="dim")
        yield Static(explain, id="conflict-explain")
        with VerticalScroll(id="conflict-fields", can_focus=False):
            for clash in self.clashes:
                yield ClashBlock(clash, id=f"clash-{clash.name}")

    def first_focus(self) -> Widget | None:
        return self.blocks()[0] if self.clashes else None

    def on_mount(self) -> None:
        if self.clashes:
            self.blocks()[0].focus()

    async def relabel(self) -> None:
        """A language switch: labels anew, the choices and what was written kept."""
        state = {b.clash.name: (b.choice, b.value() if b.choice == EDIT else None) for b in self.blocks()}
        await self.recompose()
        for block in self.blocks():
            choice, written = state.get(block.clash.name, (None, None))
            if choice == EDIT:
                editor = block.editor()
                if isinstance(editor, TextArea):
                    editor.text = str(written)
                else:
                    editor.value = str(written)  # type: ignore[attr-defined]
            if choice:
                block.choice = choice
                block.show_choice()

    def blocks(self) -> list[ClashBlock]:
        return list(self.query(ClashBlock))

    def current(self) -> ClashBlock | None:
        """The field block the focus is in."""
        node = self.focused
        while node is not None and not isinstance(node, ClashBlock):
            node = node.parent  # type: ignore[assignment]
        return node

    def editing(self) -> bool:
        return isinstance(self.focused, (Input, TextArea))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            block = self.current()
            if block is None or self.editing():
                return False
            return block.clash.editable or parameters != (EDIT,)
        return True

    def action_choose(self, choice: str) -> None:
        block = self.current()
        if block is None:
            return
        block.choose(choice)
        self.refresh_bindings()
        if choice != EDIT:
            self.next_open(block)

    def next_open(self, after: ClashBlock) -> None:
        """After a choice, the next field still to decide gets the focus (and scrolls into view)."""
        blocks = self.blocks()
        rest = blocks[blocks.index(after) + 1:] + blocks[: blocks.index(after)]
        for block in rest:
            if block.choice is None:
                block.focus()
                return

    def action_scroll(self, how: str) -> None:
        box = self.query_one("#conflict-fields", VerticalScroll)
        page = max(1, box.scrollable_content_region.height // 2)
        box.scroll_relative(y={"down": 1, "up": -1, "page_down": page, "page_up": -page}[how], animate=False)

    def action_back(self) -> None:
        if self.editing():  # out of the editor, back to the field (what was written stays)
            block = self.current()
            if block is not None:
                block.focus()
            self.refresh_bindings()
            return
        self.dismiss(None)

    def action_save(self) -> None:
        blocks = self.blocks()
        open_ = [b for b in blocks if b.choice is None]
        if open_:
            self.notify(i18n.tn("conflict.choose_all", n=len(open_)), severity="warning")
            open_[0].focus()
            return
        self.dismiss({b.clash.name: b.value() for b in blocks})

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()
