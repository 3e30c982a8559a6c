"""Small file helpers shared by the client's config and token store (headless)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> Path:
    """Replace ``path`` atomically with ``text``; the file is 0600 from its first byte.

    ``mkstemp`` creates the temporary file with O_EXCL|O_NOFOLLOW and mode 0600, so a token or
    a config is never briefly readable by others, and a crash leaves the old file whole.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # not on Windows before 3.13
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for the embedded server and tests)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
