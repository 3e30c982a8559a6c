"""Client configuration: a TOML file in the platformdirs config dir, checked against its schema.

The file is optional: without it the client uses the built-in ``demo`` profile (the embedded
reference server with demo tokens). Every error a user can make in the file becomes a
``ConfigError`` naming the file, the line and the key, never a traceback. Read at every start:
no pydantic here (see the schema below), and TOML is read and written only when a file is.
Headless: no Textual here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, get_args
from urllib.parse import urlsplit

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
    import ipaddress

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


ProfileName = str  # a key under [profiles]: check_profile_name


# -- the schema ----------------------------------------------------------------------------------------
# Plain classes, not pydantic: the config is read at every start, and its pydantic models (their
# validators built at import, pydantic's plugin lookup over every installed package) cost 15-30 ms
# of a 0.45 s start (bench/README.md, 06.12.2026). A key is a default and a check; a check returns
# the value, converted as pydantic's lax mode did (10 → 10.0, "yes" → True), or raises _Invalid
# with the problems found, in pydantic's terms (type, loc, msg, input) and with its messages, which
# _config_error turns into the user's message as before.


class _Invalid(Exception):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(errors)
        self.errors = errors


def _problem(loc: tuple, kind: str, msg: str, value: Any) -> _Invalid:
    return _Invalid([{"type": kind, "loc": loc, "msg": msg, "input": value}])


def _rule(rule: Callable[[Any], Any]) -> Callable[[Any, tuple], Any]:
    """A check from one of the rules above (a ValueError is the user's message)."""

    def check(value: Any, loc: tuple) -> Any:
        try:
            return rule(value)
        except ValueError as exc:
            raise _problem(loc, "value_error", str(exc), value) from None

    return check


def _string(value: Any, loc: tuple) -> str:
    if isinstance(value, str):
        return value
    raise _problem(loc, "string_type", "Input should be a valid string", value)


def _optional(check: Callable[[Any, tuple], Any]) -> Callable[[Any, tuple], Any]:
    return lambda value, loc: None if value is None else check(value, loc)


def _then(first: Callable[[Any, tuple], Any], then: Callable[[Any, tuple], Any]) -> Callable[[Any, tuple], Any]:
    return lambda value, loc: then(first(value, loc), loc)


def _one_of(literal: Any) -> Callable[[Any, tuple], Any]:
    choices = get_args(literal)
    expected = " or ".join(filter(None, (", ".join(map(repr, choices[:-1])), repr(choices[-1]))))

    def check(value: Any, loc: tuple) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        raise _problem(loc, "literal_error", f"Input should be {expected}", value)

    return check


def _number(*, ge: float | None = None, gt: float | None = None, le: float | None = None) -> Callable[[Any, tuple], float]:
    def check(value: Any, loc: tuple) -> float:
        try:
            if isinstance(value, str):
                try:
                    number = float(value.strip())
                except ValueError:
                    raise _problem(loc, "float_parsing", "Input should be a valid number, unable to parse string as a number",
                                   value) from None
            elif isinstance(value, (int, float)):  # bool too, as pydantic
                number = float(value)
            else:
                raise TypeError
        except (TypeError, OverflowError):
            raise _problem(loc, "float_type", "Input should be a valid number", value) from None
        # The upper bound first: nan breaks both, and pydantic named that one.
        if le is not None and not number <= le:
            raise _problem(loc, "less_than_equal", f"Input should be less than or equal to {le}", value)
        if ge is not None and not number >= ge:
            raise _problem(loc, "greater_than_equal", f"Input should be greater than or equal to {ge}", value)
        if gt is not None and not number > gt:
            raise _problem(loc, "greater_than", f"Input should be greater than {gt}", value)
        return number

    return check


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _boolean(value: Any, loc: tuple) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    if isinstance(value, int) or (isinstance(value, float) and value in (0, 1)):
        if value in (0, 1):
            return bool(value)
        raise _problem(loc, "bool_parsing", "Input should be a valid boolean, unable to interpret input", value)
    if isinstance(value, str):
        raise _problem(loc, "bool_parsing", "Input should be a valid boolean, unable to interpret input", value)
    raise _problem(loc, "bool_type", "Input should be a valid boolean", value)


def _list_of(item: Callable[[Any, tuple], Any]) -> Callable[[Any, tuple], list]:
    def check(value: Any, loc: tuple) -> list:
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise _problem(loc, "list_type", "Input should be a valid list", value)
        out, errors = [], []
        for index, element in enumerate(value):
            try:
                out.append(item(element, (*loc, index)))
            except _Invalid as exc:
                errors += exc.errors
        if errors:
            raise _Invalid(errors)
        return out

    return check


def _dict_of(key: Callable[[Any, tuple], Any], item: Callable[[Any, tuple], Any]) -> Callable[[Any, tuple], dict]:
    def check(value: Any, loc: tuple) -> dict:
        if not isinstance(value, dict):
            raise _problem(loc, "dict_type", "Input should be a valid dictionary", value)
        out, errors = {}, []
        for name, element in value.items():
            try:
                name = key(name, (*loc, name, "[key]"))
            except _Invalid as exc:
                errors += exc.errors
            try:
                out[name] = item(element, (*loc, name))
            except _Invalid as exc:
                errors += exc.errors
        if errors:
            raise _Invalid(errors)
        return out

    return check


class _Settings:
    """A table of the file: its keys (``_FIELDS``: name → (default or a factory of it, check)),
    checked when made and when one is set; no other key allowed."""

    _FIELDS: ClassVar[dict[str, tuple[Any, Callable[[Any, tuple], Any]]]] = {}
    _FACTORIES: ClassVar[frozenset[str]] = frozenset()  # defaults to call (a fresh list or dict each)
    _CHECK_DEFAULTS: ClassVar[frozenset[str]] = frozenset()  # defaults that go through their check too

    def __init__(self, **data: Any):
        try:
            values = self._checked(data, ())
        except _Invalid as exc:
            raise ConfigValidationError(type(self).__name__, exc.errors) from None
        self.__dict__.update(values)

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise ConfigValidationError(cls.__name__, _model_type(cls, (), data).errors)
        return cls(**data)

    @classmethod
    def _as_field(cls, value: Any, loc: tuple) -> Self:
        """``cls`` as the value of another table's key: itself, or made from a table."""
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise _model_type(cls, loc, value)
        self = cls.__new__(cls)
        self.__dict__.update(cls._checked(value, loc))
        return self

    @classmethod
    def _before(cls, data: dict[str, Any]) -> dict[str, Any]:
        return data

    @classmethod
    def _checked(cls, data: dict[str, Any], loc: tuple) -> dict[str, Any]:
        data = cls._before(data)
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name, (default, _) in cls._FIELDS.items():
            if name in data:
                value = data[name]
            else:
                value = default() if name in cls._FACTORIES else default
                if name not in cls._CHECK_DEFAULTS:
                    values[name] = value
                    continue
            try:
                values[name] = cls._check(name, value, (*loc, name), values)
            except _Invalid as exc:
                errors += exc.errors
        errors += [{"type": "extra_forbidden", "loc": (*loc, name), "msg": "Extra inputs are not permitted", "input": value}
                   for name, value in data.items() if name not in cls._FIELDS]
        if errors:
            raise _Invalid(errors)
        values.update(cls._private())
        return values

    @classmethod
    def _check(cls, name: str, value: Any, loc: tuple, values: dict[str, Any]) -> Any:
        """One key's value (``values``: the keys before it, checked)."""
        return cls._FIELDS[name][1](value, loc)

    @classmethod
    def _private(cls) -> dict[str, Any]:
        return {}

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIELDS:
            try:
                value = self._check(name, value, (name,), self.__dict__)
            except _Invalid as exc:
                raise ConfigValidationError(type(self).__name__, exc.errors) from None
        elif not name.startswith("_"):
            raise ConfigValidationError(type(self).__name__, [
                {"type": "no_such_attribute", "loc": (name,), "msg": f"Object has no attribute '{name}'", "input": value}])
        object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, as the pydantic models were

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._FIELDS)})"

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A shallow copy; ``update`` is not checked (as pydantic's model_copy)."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__, **(update or {}))
        return copy

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False) -> dict[str, Any]:
        """The keys and values as plain dicts and lists (nested tables too)."""

        def plain(value: Any) -> Any:
            if isinstance(value, _Settings):
                return value.model_dump(mode=mode, exclude_none=exclude_none)
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items() if not (exclude_none and item is None)}
            if isinstance(value, (list, tuple)):
                return [plain(item) for item in value]
            return value

        return {name: plain(getattr(self, name)) for name in self._FIELDS
                if not (exclude_none and getattr(self, name) is None)}

    @classmethod
    def keys(cls) -> list[str]:
        return list(cls._FIELDS)


def _model_type(cls: type, loc: tuple, value: Any) -> _Invalid:
    return _problem(loc, "model_type", f"Input should be a valid dictionary or instance of {cls.__name__}", value)


class ConfigValidationError(ValueError):
    """Values that break the schema (made in code; the file's become a ConfigError). ``errors()``
    lists each problem: type, loc (the keys to it), msg, input."""

    def __init__(self, title: str, errors: list[dict[str, Any]]):
        self._errors = errors
        lines = [f"{len(errors)} validation error{'s' if len(errors) != 1 else ''} for {title}"]
        for error in errors:
            lines += [".".join(str(part) for part in error["loc"]) or "(top level)", f"  {error['msg']}"]
        super().__init__("\n".join(lines))

    def errors(self, *, include_url: bool = False) -> list[dict[str, Any]]:
        return [dict(error) for error in self._errors]


def _ca_bundle(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must be a path to a PEM file (leave it out to use the system CA store)")
    return value


class Profile(_Settings):
    """One server to talk to and how to authenticate there."""

    server_url: str | None  # None: start the embedded reference server
    token_source: TokenSource  # default depends on server_url, see _before
    demo_identity: DemoIdentity
    ca_bundle: str | None  # PEM file; TLS verification itself cannot be switched off
    timeout_s: float
    connect_timeout_s: float
    _name: str  # the key under [profiles] (_named), not a key of the file

    _FIELDS = {
        "server_url": (None, _optional(_then(_string, _rule(check_server_url)))),
        "token_source": ("demo", _one_of(TokenSource)),
        "demo_identity": ("customer", _one_of(DemoIdentity)),
        "ca_bundle": (None, _optional(_then(_string, _rule(_ca_bundle)))),
        "timeout_s": (10.0, _number(ge=1, le=120)),
        "connect_timeout_s": (5.0, _number(gt=0, le=120)),
    }

    @classmethod
    def _before(cls, data: dict[str, Any]) -> dict[str, Any]:
        if "token_source" not in data:
            data = {**data, "token_source": "demo" if data.get("server_url") is None else "keyring"}
        return data

    @classmethod
    def _private(cls) -> dict[str, Any]:
        return {"_name": ""}

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
        profile = profile.model_copy(update={"_name": name})
    return profile


NewsKind = Literal["interest", "order", "proposal", "contract", "invoice"]


class LiveSettings(_Settings):
    """``[live]``: following the server's event stream, and what is announced."""

    enabled: bool  # follow the event stream (false: sync at start and on r only)
    poll_s: float  # without a stream: delta sync this often
    # What waits for you and is announced (a toast, the count in the status line, w jumps there):
    # interest (provider: a new interest), order (provider: a binding order to activate),
    # proposal (customer: a fee proposal), contract (customer: contract activated),
    # invoice (customer: an invoice issued).
    notify: list[NewsKind]
    toasts: bool  # false: only the count in the status line

    _FIELDS = {
        "enabled": (True, _boolean),
        "poll_s": (60.0, _number(ge=5, le=3600)),
        "notify": (lambda: list(get_args(NewsKind)), _list_of(_one_of(NewsKind))),
        "toasts": (True, _boolean),
    }
    _FACTORIES = frozenset({"notify"})


def _theme(value: Any) -> Any:
    value = {"dark": "textual-dark", "light": "textual-light"}.get(value, value) if isinstance(value, str) else value
    if value not in THEMES:
        raise ValueError(f"{value!r} is not a theme; themes: {', '.join(THEMES)}")
    return value


def _profiles(value: Any, loc: tuple) -> dict[str, Profile]:
    profiles = _dict_of(_rule(check_profile_name), Profile._as_field)(value, loc)
    # The embedded demo is always reachable, even if the file only lists remote servers.
    merged = {DEMO_PROFILE: Profile(), **profiles}
    return {name: _named(profile, name) for name, profile in merged.items()}


class Config(_Settings):
    profiles: dict[ProfileName, Profile]
    default_profile: str
    language: Language
    theme: str  # one of efa_tui.THEMES (older files said "dark" or "light")
    keymap: dict[str, str]  # binding id -> key, e.g. "catalog.filter" = "/"
    live: LiveSettings

    # profiles comes first so that default_profile's check can see it.
    _FIELDS = {
        "profiles": (dict, _profiles),
        "default_profile": (DEMO_PROFILE, _string),
        "language": ("de", _one_of(Language)),
        "theme": (THEMES[0], _rule(_theme)),
        "keymap": (dict, _dict_of(_string, _string)),
        "live": (LiveSettings, LiveSettings._as_field),
    }
    _FACTORIES = frozenset({"profiles", "keymap", "live"})
    _CHECK_DEFAULTS = frozenset({"profiles"})

    @classmethod
    def _check(cls, name: str, value: Any, loc: tuple, values: dict[str, Any]) -> Any:
        value = super()._check(name, value, loc, values)
        profiles = values.get("profiles")
        if name == "default_profile" and profiles is not None and value not in profiles:
            raise _problem(loc, "value_error", f"{value!r} is not a profile; known profiles: {', '.join(sorted(profiles))}", value)
        return value

    def profile(self, name: str) -> Profile:
        try:
            # _named: a profile put into the dict by hand has not been through the checks yet.
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
    import tomllib

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
    except ConfigValidationError as exc:
        raise _config_error(path, text, exc) from None


def _config_error(path: Path, text: str, exc: ConfigValidationError) -> ConfigError:
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
            message = f"{key}: {error['msg']}"
            # Our own rules already quote the value; the type checks' messages do not.
            if error["type"] != "value_error" and not isinstance(error.get("input"), dict):
                shown = repr(error.get("input"))
                message += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        problems.append((line, key, message))
    problems.sort(key=lambda problem: problem[0] or 0)  # file order; stable for same-line problems
    lines = [f"{path}" + (f", line {line}" if line else "") + f": {message}" for line, _, message in problems]
    return ConfigError("\n".join(lines), path=path, line=problems[0][0], key=problems[0][1])


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    if loc == ():
        return list(Config._FIELDS)
    if len(loc) == 2 and loc[0] == "profiles":
        return list(Profile._FIELDS)
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
    import tomli_w

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
    import tomllib

    import tomli_w

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
