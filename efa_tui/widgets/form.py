"""A form for the writes people make (an interest, a fee proposal, an offering …).

Fields are declared once (`FormField`): label, kind, whether required, and the domain rule that
checks the value as it is typed. The form shows each field's problem right under it, takes the
server's 422 field errors the same way (`show_errors`, focusing the first offending field), and
posts `Form.Changed` on every edit so the screen can save a draft. Values are plain strings (and
booleans for switches): the screen turns them into a request body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static, Switch, TextArea

from .. import i18n
from ..text import clean
from .text_box import TextBox
from .text_fields import TextField
from .type_select import TypeSelect

Check = Callable[[str], "str | None"]  # a value → the reason it is wrong (translated), or None


class TickBox(Checkbox):
    """A checkbox that shows an X only when ticked, in every theme: Textual's draws the X always,
    dimmed when unticked — in 16 colours (`ansi-dark`) that reads as ticked. Label it beside it
    (a `Static`, which wraps): a Checkbox's own label is one line, cut at the edge."""

    DEFAULT_CSS = """
    TickBox { border: none; padding: 0; height: 1; width: auto; background: transparent; }
    """

    def __init__(self, value: bool = False, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("", value, compact=True, id=id)

    @property
    def _button(self) -> Content:
        # The brackets in the text's own colour: in the toggle's style an unticked box was black
        # on dark navy (default theme), 232 on 235 (NO_COLOR), grey on grey (light) — the line read
        # as plain text, without a box to tick. The X in the toggle's colour.
        frame = self.visual_style
        mark = self.get_visual_style("toggle--button")
        return Content.assemble(("[", frame), ("X", mark) if self.value else (" ", frame), ("]", frame))

    def render(self) -> Content:
        return Content.assemble(self._button, " ")

    def get_content_width(self, container, viewport) -> int:  # noqa: ANN001 - Textual's signature
        return 4


@dataclass(frozen=True)
class FormField:
    name: str  # the request body's field; the server's 422 errors name it (dotted for nested fields)
    label: str  # message id
    # text | area | select | switch | tick (a checkbox with its label beside it; required: a
    # declaration, which must be ticked and is never put back from a draft) | lines (a list,
    # one item a line: add a line, delete one; ``check`` gets one line, and a problem names it)
    kind: str = "text"
    options: Sequence[tuple[str, str]] = ()  # select: (value, shown text — already translated)
    required: bool = False
    check: Check | None = None
    hint: str = ""  # message id, shown dim under the field
    placeholder: str = ""  # message id
    aliases: tuple[str, ...] = field(default=())  # other names the server may use for this field
    suggestions: tuple[str, ...] = ()  # text: values to offer as one types (→ takes one), listed under it
    # "money" | "count": a number in the user's notation (1.234,50 / 1,234.50), rewritten when a
    # draft typed in the other language comes back (formatting.renotate)
    notation: str = ""
    # A date or a number of months: typed anew, not edited (as amounts and counts are)
    retype: bool = False

    @property
    def typed_anew(self) -> bool:
        """Whether the value shown is selected when the field takes the focus, so what is typed
        replaces it: "12" months and a typed `0` made 120 (valid, ten years, unsaid), a preset fee
        and `9000` "4800,009000". Text (a title, a message) keeps its cursor at the end."""
        return self.retype or bool(self.notation)


def lines_of(text: str) -> list[str]:
    """A ``lines`` field's items: its non-empty lines, stripped."""
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def widget_id(name: str) -> str:
    return "field-" + name.replace(".", "__")


class Form(VerticalScroll):
    """Labelled fields with their problems under them. Escape/tab/enter behave as in any input."""

    DEFAULT_CSS = """
    Form { height: 1fr; padding: 0 1; }
    Form .form-field { height: auto; }  /* as tall as its content: many fields scroll at 80x24 */
    Form .form-label { margin-top: 1; text-style: bold; }
    Form .form-hint { color: $text-muted; }
    Form .form-error { color: $error; text-style: bold; display: none; }
    Form .form-error.-shown { display: block; }
    Form Input.-invalid, Form TextArea.-invalid, Form Select.-invalid { border: tall $error; }
    Form TextArea { height: 5; }
    Form .form-tick { height: auto; margin-top: 1; }
    Form .form-tick .form-tick-label { width: 1fr; text-style: bold; }  /* a TickBox is a Static too */
    """

    class Changed(Message):
        """A field changed (typed, picked, toggled): save the draft."""

        def __init__(self, form: Form, name: str) -> None:
            super().__init__()
            self.form = form
            self.name = name

        @property
        def control(self) -> Form:
            return self.form

    def __init__(self, fields: Sequence[FormField], values: Mapping[str, Any] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.fields = list(fields)
        self._by_name = {f.name: f for f in self.fields}
        for f in self.fields:
            for alias in f.aliases:
                self._by_name.setdefault(alias, f)
        self._initial = dict(values or {})
        self._errors: dict[str, str] = {}
        self._loading = False

    # --- building -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._loading = True  # the initial values are not edits
        for f in self.fields:
            with Vertical(classes="form-field"):
                if f.kind == "tick":
                    with Horizontal(classes="form-tick"):
                        yield TickBox(bool(self._initial.get(f.name)), id=widget_id(f.name))
                        yield Static(Text(i18n.t(f.label)), classes="form-tick-label")
                else:
                    yield Static(Text(i18n.t(f.label) + (" *" if f.required else "")), classes="form-label")
                    yield self._control(f, self._initial.get(f.name))
                if f.hint:
                    yield Static(Text(i18n.t(f.hint)), classes="form-hint")
                if f.suggestions:
                    yield Static(Text(i18n.t("form.suggestions", values=" · ".join(clean(v) for v in f.suggestions))),
                                 classes="form-hint")
                yield Static("", id=widget_id(f.name) + "-error", classes="form-error")

    def on_mount(self) -> None:
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    def _control(self, f: FormField, value: Any) -> Widget:
        wid = widget_id(f.name)
        placeholder = i18n.t(f.placeholder) if f.placeholder else ""
        if f.kind in ("area", "lines"):
            return TextBox(str(value or ""), id=wid, placeholder=placeholder, soft_wrap=True)
        if f.kind == "select":
            options = [(Text(label), val) for val, label in f.options]
            known = {val for val, _ in f.options}
            # A required choice with no default starts blank: the user picks it (a preselected
            # first contract was sent unread), and "required" says so on submit.
            return TypeSelect(options, id=wid, value=value if value in known else Select.NULL,
                          allow_blank=not f.required or value not in known, prompt=i18n.t("form.choose"))
        if f.kind == "switch":
            return Switch(bool(value), id=wid)
        suggester = SuggestFromList(f.suggestions, case_sensitive=False) if f.suggestions else None
        return TextField(str(value or ""), id=wid, placeholder=placeholder, select_on_focus=f.typed_anew,
                         suggester=suggester)

    # --- values -------------------------------------------------------------------------------

    def control(self, name: str) -> Widget:
        return self.query_one("#" + widget_id(self._by_name[name].name))

    def value(self, name: str) -> Any:
        widget = self.control(name)
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else widget.value
        if isinstance(widget, Switch | Checkbox):
            return widget.value
        return cast(Input, widget).value

    def values(self) -> dict[str, Any]:
        return {f.name: self.value(f.name) for f in self.fields}

    def set_value(self, name: str, value: Any) -> None:
        widget = self.control(name)
        if isinstance(widget, TextArea):
            widget.text = str(value or "")
        elif isinstance(widget, Select):
            # A restored draft may name a choice that is gone (a contract no longer listed):
            # no choice (or the one shown) rather than Textual's InvalidSelectValueError.
            if value and value in {val for val, _ in self._by_name[name].options}:
                widget.value = value
            elif not self._by_name[name].required:
                widget.value = Select.NULL
        elif isinstance(widget, Switch | Checkbox):
            widget.value = bool(value)
        else:
            cast(Input, widget).value = str(value or "")

    # --- checking -------------------------------------------------------------------------------

    def problem(self, name: str) -> str | None:
        """What is wrong with one field now, by the field's own rule (None: nothing)."""
        f = self._by_name[name]
        value = self.value(f.name)
        if f.kind in ("switch", "tick"):
            # A required tick is a declaration ("Ich bin berechtigt …"): it must be ticked to send.
            return i18n.t("form.declare_first") if f.required and not value else None
        text = str(value).strip()
        if not text:
            return i18n.t("form.required") if f.required else None
        if f.kind == "lines":
            return self._line_problem(f, str(value))
        return f.check(text) if f.check else None

    def _line_problem(self, f: FormField, text: str) -> str | None:
        """The first bad line of a ``lines`` field, named by its number (and the cursor put on it)."""
        if f.check is None:
            return None
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and (problem := f.check(line.strip())):
                return i18n.t("form.line_problem", n=number, problem=problem)
        return None

    def _line_of_item(self, name: str, index: int) -> int:
        """The line (from 1) of a ``lines`` field that holds item ``index`` (empty lines skipped)."""
        items = [n for n, line in enumerate(str(self.value(name)).splitlines(), 1) if line.strip()]
        return items[index] if 0 <= index < len(items) else index + 1

    def check(self) -> dict[str, str]:
        """Check every field; show the problems; focus the first. ``{}``: ready to send."""
        errors = {f.name: p for f in self.fields if (p := self.problem(f.name))}
        self.show_errors(errors)
        return errors

    def recheck(self) -> dict[str, str]:
        """Every field by its own rule, as if just typed (a restored draft): the problems are shown
        and the first has the focus; an empty required field counts only once the form is sent."""
        unsent = {i18n.t("form.required"), i18n.t("form.declare_first")}
        errors = {f.name: p for f in self.fields if (p := self.problem(f.name)) and p not in unsent}
        self.show_errors(errors)
        return errors

    def show_errors(self, errors: Mapping[str, str], *, focus: bool = True) -> list[str]:
        """Show problems at their fields (the server's 422 errors too: its field names, dotted,
        are matched to the form's fields). Returns the problems that belong to no field."""
        unplaced: list[str] = []
        self._errors = {}
        for name, message in errors.items():
            f = self._by_name.get(name) or self._by_name.get(name.split(".")[-1])
            head, _, index = name.rpartition(".")
            if f is None and index.isdigit() and (f := self._by_name.get(head)) is not None and f.kind == "lines":
                # The server names an item of a list ("leitweg_ids.1"): the form, its line.
                message = i18n.t("form.line_problem", n=self._line_of_item(f.name, int(index)), problem=message)
            if f is None:
                unplaced.append(f"{clean(name)}: {clean(message)}")
                continue
            self._errors.setdefault(f.name, clean(message))
        for f in self.fields:
            self._mark(f.name, self._errors.get(f.name))
        first = next((f for f in self.fields if f.name in self._errors), None)
        if focus and first is not None:
            self.control(first.name).focus(scroll_visible=False)
            self._reveal(first.name)
            self._cursor_to_bad_line(first)
        return unplaced

    def _cursor_to_bad_line(self, f: FormField) -> None:
        """A ``lines`` field with a problem: the cursor on the first bad line, what was typed kept."""
        if f.kind != "lines":
            return
        area = cast(TextArea, self.control(f.name))
        bad = self._bad_lines(f)
        if bad:
            area.cursor_location = (bad[0] - 1, len(area.document.get_line(bad[0] - 1)))

    def _bad_lines(self, f: FormField) -> list[int]:
        text = str(self.value(f.name))
        message = self._errors.get(f.name, "")
        numbers = [n for n, line in enumerate(text.splitlines(), 1)
                   if line.strip() and f.check is not None and f.check(line.strip())]
        if numbers:
            return numbers
        # Only the server knows what is wrong (a repeat, say): the line its problem names.
        for n in range(1, len(text.splitlines()) + 1):
            if message.startswith(i18n.t("form.line_problem", n=n, problem="")):
                return [n]
        return []

    def _reveal(self, name: str) -> None:
        """Scroll the whole field into view — label, input and the problem under it (at 80x24 the
        problem of the last field would otherwise sit below the fold while one types)."""
        box = self.control(name).parent
        if isinstance(box, Widget):
            # After the layout that gives the problem (shown just now) its height.
            self.call_after_refresh(self.call_after_refresh, self.scroll_to_widget, box, animate=False)

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def _mark(self, name: str, message: str | None) -> None:
        error = self.query_one("#" + widget_id(name) + "-error", Static)
        error.update(Text(message or ""))
        error.set_class(bool(message), "-shown")
        self.control(name).set_class(bool(message), "-invalid")

    # --- edits ----------------------------------------------------------------------------------

    def _edited(self, widget: Widget | None) -> None:
        if self._loading or widget is None or not (widget.id or "").startswith("field-"):
            return
        name = next((f.name for f in self.fields if widget_id(f.name) == widget.id), None)
        if name is None:
            return
        # Checked as typed: the field's own rule, shown at once (required only once submitted).
        problem = self.problem(name)
        if problem == i18n.t("form.required") and name not in self._errors:
            problem = None
        new = bool(problem) and name not in self._errors
        if problem:
            self._errors[name] = problem
        else:
            self._errors.pop(name, None)
        self._mark(name, problem)
        if new and widget.has_focus:
            self._reveal(name)
        self.post_message(self.Changed(self, name))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # A box with its whole text into view, not only the box: Textual scrolls to the focused
        # widget, and an authorisation box is one line beside its three-line text — at 80x24 it
        # showed "… diesen Vertrag zum" and space ticked it unread.
        # Only there: other fields keep Textual's scroll (their problem is revealed as it shows,
        # _reveal), and a second scroll of theirs raced it in the snapshots.
        if not isinstance(event.widget, TickBox):
            return
        field = next((a for a in event.widget.ancestors_with_self if a.has_class("form-field")), None)
        if field is not None:
            self.call_after_refresh(self.scroll_to_widget, field, animate=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._edited(event.input)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._edited(event.text_area)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._edited(event.select)

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._edited(event.switch)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._edited(event.checkbox)


def options(pairs: Iterable[tuple[str, str]], translate: bool = True) -> list[tuple[str, str]]:
    """Select options from (value, message id) pairs, translated now."""
    return [(value, i18n.t(label) if translate else label) for value, label in pairs]
