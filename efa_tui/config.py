"""Client configuration: a TOML file in the platformdirs config dir, validated by a typed schema.

The file is optional: without it the client uses the built-in ``demo`` profile (the embedded
reference server with demo tokens). Every error a user can make in the file becomes a
``ConfigError`` naming the file, the line and the key, never a pydantic traceback.
Headless: no Textual here.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

import tomli_w
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from . import DEMO_IDENTITIES, THEMES
from .files import user_dir, write_private

CONFIG_FILE = "config.toml"
ENV_CONFIG_DIR = "EFA_TUI_CONFIG_DIR"
DEMO_PROFILE = "demo"
ADHOC_PROFILE = "adhoc"

Language = Literal["de", "en"]
TokenSource = Literal["env", "keyring", "file", "demo"]
DemoIdentity = Literal[DEMO_IDENTITIES]  # type: ignore[valid-type]

# Profile names become keyring user names and token file names, so no path separators.
PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_LOOPBACK_HOSTS = {"localhost"}


class ConfigError(Exception):
    """A configuration problem a user can fix; the message is meant to be shown as is."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.key = key


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override).expanduser()
    return user_dir("config")


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def check_profile_name(name: str) -> str:
    if not isinstance(name, str) or not PROFILE_NAME_RE.match(name):
        raise ValueError(
            f"invalid profile name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, not starting with '.' or '-')"
        )
    return name


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """Accept https anywhere and plain http only on loopback: the token must not cross a network in clear."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL like https://marketplace.example.org/api/v1, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials; use token_source instead")
    if parts.query or parts.fragment:
        raise ValueError(f"must not have a query or fragment, got {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"must use https for a non-loopback host, got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"has an invalid port: {url!r}") from None
    return url


ProfileName = Annotated[str, AfterValidator(check_profile_name)]


class Profile(BaseModel):
    """One server to talk to and how to authenticate there."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    server_url: str | None = None  # None: start the embedded reference server
    token_source: TokenSource = "demo"  # default depends on server_url, see _default_token_source
    demo_identity: DemoIdentity = "customer"
    ca_bundle: str | None = None  # PEM file; TLS verification itself cannot be switched off
    timeout_s: float = Field(default=10.0, ge=1, le=120)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)

    _name: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _default_token_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and "token_source" not in data:
            data = {**data, "token_source": "demo" if data.get("server_url") is None else "keyring"}
        return data

    @field_validator("server_url")
    @classmethod
    def _check_server_url(cls, value: str | None) -> str | None:
        return None if value is None else check_server_url(value)

    @field_validator("ca_bundle")
    @classmethod
    def _check_ca_bundle(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a path to a PEM file (leave it out to use the system CA store)")
        return value

    @property
    def name(self) -> str:
        """The key under [profiles], or "adhoc" for a --server profile; names its stored token."""
        return self._name

    @property
    def is_embedded(self) -> bool:
        return self.server_url is None

    @property
    def ca_bundle_path(self) -> Path | None:
        """The CA bundle with ``~`` expanded; a relative path counts from the config dir."""
        if self.ca_bundle is None:
            return None
        path = Path(self.ca_bundle).expanduser()
        return path if path.is_absolute() else config_dir() / path


def _named(profile: Profile, name: str) -> Profile:
    if profile.name != name:
        profile = profile.model_copy()
        profile._name = name
    return profile


NewsKind = Literal["interest", "order", "proposal", "contract", "invoice"]


class LiveSettings(BaseModel):
    """``[live]``: following the server's event stream, and what is announced."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    enabled: bool = True  # follow the event stream (false: sync at start and on r only)
    poll_s: float = Field(default=60.0, ge=5, le=3600)  # without a stream: delta sync this often
    # What waits for you and is announced (a toast, the count in the status line, w jumps there):
    # interest (provider: a new interest), order (provider: a binding order to activate),
    # proposal (customer: a fee proposal), contract (customer: contract activated),
    # invoice (customer: an invoice issued).
    notify: list[NewsKind] = Field(default_factory=lambda: list(get_args(NewsKind)))
    toasts: bool = True  # false: only the count in the status line


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # profiles comes first so that default_profile's validator can see it.
    profiles: dict[ProfileName, Profile] = Field(default_factory=dict, validate_default=True)
    default_profile: str = DEMO_PROFILE
    language: Language = "de"
    theme: str = THEMES[0]  # one of efa_tui.THEMES (older files said "dark" or "light")
    keymap: dict[str, str] = Field(default_factory=dict)  # binding id -> key, e.g. "catalog.filter" = "/"
    live: LiveSettings = Field(default_factory=LiveSettings)

    @field_validator("profiles")
    @classmethod
    def _with_demo_profile(cls, profiles: dict[str, Profile]) -> dict[str, Profile]:
        # The embedded demo is always reachable, even if the file only lists remote servers.
        merged = {DEMO_PROFILE: Profile(), **profiles}
        return {name: _named(profile, name) for name, profile in merged.items()}

    @field_validator("theme", mode="before")
    @classmethod
    def _known_theme(cls, value: Any) -> Any:
        value = {"dark": "textual-dark", "light": "textual-light"}.get(value, value)
        if value not in THEMES:
            raise ValueError(f"{value!r} is not a theme; themes: {', '.join(THEMES)}")
        return value

    @field_validator("default_profile")
    @classmethod
    def _known_default(cls, value: str, info: ValidationInfo) -> str:
        profiles = info.data.get("profiles")
        if profiles is not None and value not in profiles:
            raise ValueError(f"{value!r} is not a profile; known profiles: {', '.join(sorted(profiles))}")
        return value

    def profile(self, name: str) -> Profile:
        try:
            # _named: a profile put into the dict by hand has not been through validation yet.
            return _named(self.profiles[name], name)
        except KeyError:
            raise ConfigError(
                f"unknown profile {name!r}; known profiles: {', '.join(sorted(self.profiles))}", key=name
            ) from None


def resolve_profile(config: Config, name: str | None, server_url: str | None = None) -> Profile:
    """The profile the CLI asked for: ``--profile NAME`` and/or ``--server URL``.

    With ``--server`` alone the result is an ad-hoc profile named "adhoc" whose token comes only from
    EFA_TUI_TOKEN, so no stored token is ever sent to a server the user merely typed in. With both,
    the named profile's settings (token, CA bundle, timeouts) are used against the given URL.
    """
    if server_url is not None:
        try:
            check_server_url(server_url)
        except ValueError as exc:
            raise ConfigError(f"--server {exc}", key="server_url") from None
        if name is None:
            return _named(Profile(server_url=server_url, token_source="env"), ADHOC_PROFILE)
        return config.profile(name).model_copy(update={"server_url": server_url})
    return config.profile(name if name is not None else config.default_profile)


# -- reading -----------------------------------------------------------------------------------------


def load_config(path: Path | None = None) -> Config:
    path = config_path() if path is None else Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 puts "(at line N, column M)" into the message only.
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        where = f"{path}, line {line}" if line else f"{path}"
        raise ConfigError(f"{where}: invalid TOML: {exc}", path=path, line=line) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _config_error(path, text, exc) from None


def _config_error(path: Path, text: str, exc: ValidationError) -> ConfigError:
    problems: list[tuple[int | None, str, str]] = []  # (line, key, message)
    for error in exc.errors(include_url=False):
        # A bad dict key is reported at (..., key, "[key]"); the key itself is what the user wrote.
        loc = tuple(str(part) for part in error["loc"] if part != "[key]")
        key = ".".join(_toml_key(part) for part in loc) or "(top level)"
        line = _find_line(text, loc)
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key {key}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        else:
            message = f"{key}: {_clean_msg(error['msg'])}"
            # Our own validators already quote the value; pydantic's messages do not.
            if error["type"] != "value_error" and not isinstance(error.get("input"), dict):
                shown = repr(error.get("input"))
                message += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        problems.append((line, key, message))
    problems.sort(key=lambda problem: problem[0] or 0)  # file order; stable for same-line problems
    lines = [f"{path}" + (f", line {line}" if line else "") + f": {message}" for line, _, message in problems]
    return ConfigError("\n".join(lines), path=path, line=problems[0][0], key=problems[0][1])


def _clean_msg(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    if loc == ():
        return list(Config.model_fields)
    if len(loc) == 2 and loc[0] == "profiles":
        return list(Profile.model_fields)
    return []


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(part: str) -> str:
    return part if _BARE_KEY.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_key(text: str) -> tuple[list[str], str] | None:
    """Parse a dotted TOML key at the start of ``text``; returns (parts, rest) or None."""
    parts: list[str] = []
    rest = text.lstrip()
    while True:
        if rest[:1] in ('"', "'"):
            quote = rest[0]
            end = rest.find(quote, 1)
            while quote == '"' and end > 0 and rest[end - 1] == "\\":
                end = rest.find(quote, end + 1)
            if end < 0:
                return None
            parts.append(rest[1:end])
            rest = rest[end + 1 :].lstrip()
        else:
            match = _BARE_KEY.match(rest)
            if not match:
                return None
            parts.append(match.group())
            rest = rest[match.end() :].lstrip()
        if rest.startswith("."):
            rest = rest[1:].lstrip()
            continue
        return parts, rest


def _find_line(text: str, loc: tuple[str, ...]) -> int | None:
    """Best effort: the line that sets ``loc``, else the closest enclosing key or table header."""
    if not loc:
        return None
    best: tuple[int, int] | None = None  # (matched length, line number)
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inner = stripped.lstrip("[")
            parsed = _split_key(inner)
            if parsed is None or not parsed[1].startswith("]"):
                continue
            table = parsed[0]
            full = table
        else:
            parsed = _split_key(stripped)
            if parsed is None or not parsed[1].startswith("="):
                continue
            full = table + parsed[0]
        if tuple(full) == loc:
            return number
        if len(full) < len(loc) and tuple(full) == loc[: len(full)] and (best is None or len(full) > best[0]):
            best = (len(full), number)
    return best[1] if best else None


# -- writing -----------------------------------------------------------------------------------------


def config_to_toml(config: Config) -> str:
    data = config.model_dump(mode="python", exclude_none=True)
    # Settings first, profiles last: the order a person reading the file expects.
    order = ["default_profile", "language", "theme", "keymap", "profiles"]
    return tomli_w.dumps({key: data[key] for key in order if key in data} | data)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write atomically (temp file + os.replace). Comments in an existing file are not kept."""
    path = config_path() if path is None else Path(path)
    text = config_to_toml(config)
    ensure_private_dir(path.parent, enforce=False)
    return write_private(path, text)


_TOP_LEVEL_KEY = re.compile(r"^\s*(?P<key>[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*=")


def set_setting(key: str, value: Any, path: Path | None = None) -> Path:
    """Set one top-level setting (``language = "en"``) in the config file, keeping the rest of it as
    the user wrote it: other settings, their order, comments. The line ``key = …`` is written by
    tomli-w and replaces the old one (its trailing comment kept) or goes above the first table;
    the result is read back, and only when it says exactly the old settings plus the new value is
    it written (else — a multi-line value, say — the file is written anew by tomli-w from what
    it said, which keeps every setting but not the comments). Written atomically."""
    path = config_path() if path is None else Path(path)
    line = tomli_w.dumps({key: value}).strip()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    old = tomllib.loads(text) if text else {}
    wanted = old | {key: value}
    lines = text.splitlines(keepends=True)
    first_table = next((i for i, x in enumerate(lines) if x.lstrip().startswith("[")), len(lines))
    at = next((i for i, x in enumerate(lines[:first_table])
               if (m := _TOP_LEVEL_KEY.match(x)) and m["key"].strip("\"'") == key), None)
    if at is not None:
        comment = re.search(r"\s+#[^\"']*$", lines[at].rstrip("\n"))
        lines[at] = line + (comment.group(0) if comment else "") + "\n"
    else:
        # Above the first table, after the settings before it (a blank line between them stays).
        at = first_table
        while at > 0 and not lines[at - 1].strip():
            at -= 1
        lines.insert(at, line + "\n")
    new = "".join(lines)
    try:
        same = tomllib.loads(new) == wanted
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        new = tomli_w.dumps(wanted)
    ensure_private_dir(path.parent, enforce=False)
    return write_private(path, new)


def ensure_private_dir(directory: Path, *, enforce: bool) -> Path:
    """Create ``directory`` (and parents) as 0700; with ``enforce`` also tighten an existing one."""
    existed = directory.is_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if enforce or not existed:
        # mkdir's mode is filtered by the umask; chmod is not.
        os.chmod(directory, 0o700)
    return directory
