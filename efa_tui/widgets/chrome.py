"""The frame around every area: a header (profile, organisation, role), an offline banner and a
status line (live/online/offline, data age, sync progress, outbox counts, news waiting)."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from .. import formatting, i18n
from ..services import Status
from ..text import clean


class AppHeader(Static):
    DEFAULT_CSS = """
    AppHeader { dock: top; height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def show(self, profile: str, organization: str, role: str, area: str) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(i18n.t("app.title"), style="bold")
        text.append(f" · {area}")
        text.append(f"  {clean(organization)}" if organization else "")
        text.append(f" · {i18n.t('role.' + role)}" if role else "")
        text.append(f" · {clean(profile)}", style="dim")
        self.update(text, layout=False)  # one line, full width: new text never moves anything


class OfflineBanner(Static):
    DEFAULT_CSS = """
    OfflineBanner { dock: top; height: auto; background: $warning; color: $text; padding: 0 1; display: none; }
    OfflineBanner.-shown { display: block; }
    """

    def update(self, content="", *, layout: bool = True) -> None:
        # Hidden, it takes no room, so new text needs no layout of the screen (the status
        # changes several times while the app starts); showing it is a layout of its own.
        super().update(content, layout=layout and self.has_class("-shown"))


class BottomBar(Vertical):
    """Status line above the key hints, docked together so neither hides the other."""

    DEFAULT_CSS = """
    BottomBar { dock: bottom; height: auto; }
    BottomBar Footer { dock: none; }
    """


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def show(self, status: Status, progress: tuple[int, int | None] | None = None, connecting: bool = False,
             setting_up: bool = False) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if setting_up:  # the first start creates the demo marketplace: seconds, and it says so
            text.append("● " + i18n.t("banner.setting_up"), style="bold")
        elif connecting:
            text.append("● " + i18n.t("banner.connecting"), style="bold")
        elif status.online and status.mode == "live":
            text.append("● " + i18n.t("status.live"), style="bold green")
        elif status.online:
            text.append("● " + i18n.t("status.online"), style="bold green")
        else:
            text.append("● " + i18n.t("status.offline"), style="bold red")
        as_of = status.as_of.get("offerings")
        if not (status.online and status.mode == "live"):  # live, the data is as of now
            text.append("  " + (i18n.t("status.as_of", time=formatting.clock(as_of)) if as_of else i18n.t("status.never")))
        if status.news:
            text.append("  " + i18n.t("status.news", n=status.news), style="bold yellow")
        if progress is not None:
            done, total = progress
            label = (i18n.t("status.syncing", done=formatting.number(done), total=formatting.number(total))
                     if total else i18n.t("status.syncing_open", done=formatting.number(done)))
            text.append(f"  {label} ", style="bold")
            if total:
                filled = min(10, round(10 * done / total))
                text.append("█" * filled + "░" * (10 - filled), style="bold")
        if status.pending:
            text.append("  " + i18n.t("status.pending", n=status.pending), style="yellow")
        if status.failed:
            text.append("  " + i18n.t("status.failed", n=status.failed), style="bold red")
        self.update(text, layout=False)  # one line, full width: new text never moves anything
