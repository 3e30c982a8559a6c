"""Small file helpers shared by the client's config, token store and exports (headless)."""

from __future__ import annotations

import functools
import os
import socket
import tempfile
from pathlib import Path
from typing import Literal


def _replace(path: Path, data: bytes, mode: int) -> Path:
    """Replace ``path`` atomically with ``data`` (a crash leaves the old file whole, never half a
    new one). ``mkstemp`` creates the temporary file with O_EXCL|O_NOFOLLOW and mode 0600; it gets
    ``mode`` before the first byte is written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # not on Windows before 3.13
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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


def write_private(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text``, 0600 from its first byte: a token or a config is never
    briefly readable by others."""
    return _replace(path, text.encode("utf-8"), 0o600)


@functools.cache
def _umask() -> int:
    # Read once: os.umask can only be read by setting it, which would race with other threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_document(path: Path, data: bytes) -> Path:
    """Save a document the user asked for (an exported invoice, a CSV), with the usual permissions,
    creating its folder if needed."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return _replace(path, data, 0o666 & ~_umask())


def unused_name(path: Path) -> Path:
    """``path``, or the first of "name (2).ext", "name (3).ext" … that does not exist yet: a
    default file name never lands on a document saved earlier (an annotated export)."""
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        n += 1
    return candidate


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for the embedded server and tests)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


APP_DIR = "efa-tui"  # the name of the app's own directories (platformdirs' app name)


def user_dir(kind: Literal["config", "data", "cache", "log"]) -> Path:
    """The app's own directory of that kind for this user (platformdirs: XDG on Linux), not
    created here: ``~/.config/efa-tui``, ``~/.local/share/efa-tui`` …"""
    import platformdirs  # only where a path is needed: not on the way to the first paint

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_DIR))


def private_dir(directory: Path) -> Path:
    """``directory`` (and missing parents) with mode 0700: the local state and caches hold other
    organisations' records, which no other user of the machine may read."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask, and an old dir may be 0755
    return directory


def private_database(path: Path) -> Path:
    """A SQLite file that is 0600 before SQLite opens it (its -wal and -shm files take the mode of
    the database file): created empty — an empty file is an empty database — or tightened.

    Its directory is made 0700 when it is new or the app's own (a path under an ``efa-tui``
    directory); a directory the user named (``--cache /tmp/x.sqlite3``) keeps its mode: tightening
    /tmp to 0700 locked every other user (and PostgreSQL's test cluster) out of it."""
    parent = path.parent
    if not parent.is_dir() or APP_DIR in parent.parts:
        private_dir(parent)
    if os.name == "posix":
        fd = os.open(path, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        for suffix in ("-wal", "-shm"):
            try:
                os.chmod(f"{path}{suffix}", 0o600)
            except FileNotFoundError:
                pass
    return path


def demo_database_path() -> Path:
    """Where the embedded demo marketplace keeps its SQLite database (the server's default)."""
    return user_dir("data") / "marketplace.sqlite3"
