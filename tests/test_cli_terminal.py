"""`efa-tui` as a user starts it: in a real pseudo-terminal, with no configuration, against the
embedded demo marketplace — the catalog appears, goes online, and `q` quits cleanly (exit 0, no
traceback; closing the HTTP connections after the event loop had ended used to print one)."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time

import pytest

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]")


def _plain(raw: bytes) -> str:
    return ANSI.sub(b"", raw).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_start_browse_and_quit_in_a_terminal(tmp_path):
    env = {**os.environ, "TERM": "xterm-256color", "LINES": "30", "COLUMNS": "100"}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(tmp_path / var.lower())
    env.pop("EFA_TUI_TOKEN", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: efa-tui with no arguments
        os.execvpe(sys.executable, [sys.executable, "-m", "efa_tui.cli"], env)
    raw, quit_sent, deadline = b"", None, time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                raw += chunk
            text = _plain(raw)
            if quit_sent is None and "online" in text and "Landeshauptstadt München" in text and "Katalog" in text:
                time.sleep(1)
                os.write(fd, b"q")
                quit_sent = time.monotonic()
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    text = _plain(raw)
    assert quit_sent is not None, text[-2000:]
    assert "Traceback" not in text and "Error" not in text, text[-3000:]
    assert os.waitstatus_to_exitcode(status) == 0
