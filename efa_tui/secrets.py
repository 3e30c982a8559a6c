"""Where the bearer token comes from: EFA_TUI_TOKEN, the demo identities, the OS keyring or a 0600 file.

A token is never logged or put into an exception message; use ``redact`` on any text that might
contain one. Keyring backends fail in many ways (no D-Bus over SSH, a locked collection, the
fail/null backends in containers), so every keyring call is guarded and the file is the fallback.
Headless: no Textual here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from .config import Profile, check_profile_name, config_dir, ensure_private_dir
from .files import write_private

ENV_TOKEN = "EFA_TUI_TOKEN"
KEYRING_SERVICE = "efa-tui"
TOKENS_DIR = "tokens"

log = logging.getLogger(__name__)


def get_token(profile_name: str, profile: Profile) -> str | None:
    env = os.environ.get(ENV_TOKEN, "").strip()
    if env:
        return env
    source = profile.token_source
    if source == "demo":
        return f"demo-{profile.demo_identity}"
    if source == "keyring":
        token = _keyring_get(profile_name)
        return token if token else _file_get(profile_name)
    if source == "file":
        return _file_get(profile_name)
    return None  # "env": only the environment variable counts


def store_token(profile_name: str, token: str, prefer_keyring: bool = True) -> str:
    """Store ``token`` for the profile; returns "keyring" or "file"."""
    check_profile_name(profile_name)
    token = _check_token(token)
    if prefer_keyring and _keyring_set(profile_name, token):
        _file_delete(profile_name)  # no stale copy left on disk
        return "keyring"
    _file_set(profile_name, token)
    _keyring_delete(profile_name)  # else a stale keyring entry would win over the new file
    return "file"


def delete_token(profile_name: str) -> bool:
    """Forget the profile's token everywhere; True if there was one."""
    check_profile_name(profile_name)
    in_keyring = _keyring_delete(profile_name)
    in_file = _file_delete(profile_name)
    return in_keyring or in_file


def redact(text: str, token: str | None) -> str:
    if not token:
        return text
    return text.replace(token, "***")


def token_path(profile_name: str) -> Path:
    check_profile_name(profile_name)
    return config_dir() / TOKENS_DIR / f"{profile_name}.token"


def _check_token(token: str) -> str:
    token = token.strip() if isinstance(token, str) else ""
    if not token:
        raise ValueError("the token is empty")
    # It ends up in an HTTP header: control characters would allow header injection.
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in token):
        raise ValueError("the token contains whitespace or control characters")
    return token


# -- keyring -----------------------------------------------------------------------------------------


def keyring_backend() -> Any | None:
    """The active keyring backend if it can actually store secrets, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return None
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return None
        return backend
    except Exception as exc:  # noqa: BLE001 - any backend trouble means "no keyring"
        log.debug("keyring unavailable: %s", type(exc).__name__)
        return None


def keyring_available() -> bool:
    return keyring_backend() is not None


def _keyring_get(profile_name: str) -> str | None:
    backend = keyring_backend()
    if backend is None:
        return None
    try:
        return backend.get_password(KEYRING_SERVICE, profile_name)
    except Exception as exc:  # noqa: BLE001
        log.warning("keyring: reading the token for profile %r failed (%s)", profile_name, type(exc).__name__)
        return None


def _keyring_set(profile_name: str, token: str) -> bool:
    backend = keyring_backend()
    if backend is None:
        return False
    try:
        backend.set_password(KEYRING_SERVICE, profile_name, token)
        # Some backends (an empty chainer, odd third-party ones) accept and drop the secret.
        return backend.get_password(KEYRING_SERVICE, profile_name) == token
    except Exception as exc:  # noqa: BLE001
        log.warning("keyring: storing the token for profile %r failed (%s); using a file", profile_name, type(exc).__name__)
        return False


def _keyring_delete(profile_name: str) -> bool:
    backend = keyring_backend()
    if backend is None:
        return False
    try:
        if backend.get_password(KEYRING_SERVICE, profile_name) is None:
            return False
        backend.delete_password(KEYRING_SERVICE, profile_name)
        return True
    except Exception as exc:  # noqa: BLE001 - PasswordDeleteError, locked keyring, no D-Bus, ...
        log.debug("keyring: deleting the token for profile %r failed (%s)", profile_name, type(exc).__name__)
        return False


# -- file --------------------------------------------------------------------------------------------


def _file_get(profile_name: str) -> str | None:
    path = token_path(profile_name)
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read the token file %s (%s)", path, type(exc).__name__)
        return None
    if mode & 0o077:
        log.warning("token file %s is readable by others (mode %o); run: chmod 600 %s", path, mode & 0o777, path)
    return token or None


def _file_set(profile_name: str, token: str) -> Path:
    path = token_path(profile_name)
    ensure_private_dir(path.parent.parent, enforce=False)
    ensure_private_dir(path.parent, enforce=True)
    # A fresh file created 0600 (never briefly world-readable) replaces the old one atomically.
    return write_private(path, token + "\n")


def _file_delete(profile_name: str) -> bool:
    try:
        token_path(profile_name).unlink()
        return True
    except FileNotFoundError:
        return False
