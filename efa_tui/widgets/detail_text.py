"""A detail's text with hanging indents: a line that wraps continues under its text, not at column 0.

Every detail view (offering, order, invoice, support, administration) builds Rich `Text` with
lines like "  Nachricht:" + "    Wir möchten …" or "  Bereitsteller: regio iT gesellschaft …".
Rich wraps such a line at the widget's width and starts the next line at column 0, so a long
value runs under its label and the block loses its shape at 80 columns. The rule, in one place:

* a no-break space (Babel puts one between an amount and its "€") never breaks a line: Rich's
  wrap breaks at every whitespace, U+00A0 included ("564.589,36" / "€" on the next line),
* a part of a line between " · " separators stays on one line when it fits ("offen 564.589,36 €",
  "netto 1.200,00 €": a label is not split from its amount),
* a line continues under its first non-blank cell (its indent), and
* a line that starts with a label marked by `label()` ("Bereitsteller: ") continues under the
  value, i.e. after the label — unless the label takes more than half the width, where the value
  would get too little room (then the line continues under its indent).

`DetailText` is the `Static` that draws Text this way; `label()` appends a label and marks it.
The mark is a style with only metadata: it draws nothing and survives `Text` operations.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

__all__ = ["DetailText", "Hanging", "hang_of", "label"]

_MARK = "efa-hang"
LABEL = Style(meta={_MARK: True})
"""The style that marks a label: continuation lines start where it ends."""


def label(text: Text, words: str, style: str | Style | None = None) -> Text:
    """Append ``words`` (e.g. "  Bereitsteller: ") to ``text`` as a label: when the line wraps,
    it continues under what follows the label. Returns ``text``."""
    start = len(text)
    text.append(words, style=style)
    text.stylize(LABEL, start, len(text))
    return text


def hang_of(line: Text) -> int:
    """Where continuation lines of this line start (in cells): after a marked label at its start,
    else under its first non-blank character."""
    plain = line.plain
    indent = len(plain) - len(plain.lstrip(" "))
    hang = indent
    for span in line.spans:
        style = span.style
        if isinstance(style, Style) and style.meta.get(_MARK) and span.start <= indent and span.end < len(plain):
            hang = max(hang, span.end)
    return hang


class Hanging:
    """A Rich renderable: ``text`` wrapped line by line with hanging indents (see the module)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __str__(self) -> str:  # what it says, as `str(Text)` (a widget's `content`, read by tests)
        return self.text.plain

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        lines: list[Text] = []
        # Wrapped with the no-break spaces as a visible stand-in of the same width, then put back.
        source = _swap(self.text, NBSP, _KEEP) if NBSP in self.text.plain else self.text
        for line in source.split("\n", allow_blank=True):
            line.end = ""
            hang = hang_of(line)
            if hang and hang * 2 > width:  # a very long label: the value gets the full width under the indent
                plain = line.plain
                hang = min(hang, len(plain) - len(plain.lstrip(" ")))
            if not hang:
                lines.extend(_kept_apart(part) for part in _parts_kept(line, width).wrap(console, width, overflow="fold"))
                continue
            head, body = line.divide([hang])
            pad = Text(" " * hang)
            for n, part in enumerate(_parts_kept(body, width - hang).wrap(console, width - hang, overflow="fold")):
                part.rstrip()
                lines.append(Text.assemble(head if n == 0 else pad, _kept_apart(part)))
        if source is not self.text:
            lines = [_swap(line, _KEEP, NBSP) for line in lines]
        base = console.get_style(self.text.style) if self.text.style else None
        for line in lines:  # every line ends with a newline (Textual counts them for the height)
            for segment in line.render(console):
                if segment.text != "\n":
                    yield Segment(segment.text, base + segment.style if base and segment.style else base or segment.style)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)


NBSP = "\u00a0"
_KEEP = "\ue000"  # a private-use character: one cell wide, not whitespace, never in cleaned server text


_KEEP_SPACE = "\ue001"  # a space inside a part that fits: drawn as a space again after the wrap
_PART = " · "


def _parts_kept(line: Text, width: int) -> Text:
    """``line`` with the spaces inside each " · " part that fits in ``width`` made unbreakable."""
    plain = line.plain
    if _PART not in plain:
        return line
    parts = plain.split(_PART)
    kept = _PART.join(part.replace(" ", _KEEP_SPACE) if len(part.strip()) <= width else part for part in parts)
    if kept == plain:
        return line
    swapped = line.copy()
    swapped.plain = kept
    return swapped


def _kept_apart(line: Text) -> Text:
    return _swap(line, _KEEP_SPACE, " ") if _KEEP_SPACE in line.plain else line


def _swap(text: Text, old: str, new: str) -> Text:
    """``text`` with one character replaced by another of the same length (spans and style kept)."""
    swapped = text.copy()
    swapped.plain = text.plain.replace(old, new)
    return swapped


def _hung(content: Any) -> Any:
    return Hanging(content) if isinstance(content, Text) else content


class DetailText(Static):
    """A `Static` for a detail's text: `Text` is drawn with hanging indents (`Hanging`)."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(_hung(content), **kwargs)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_hung(content), layout=layout)
