"""Configuration file and token sources; never touches the real user config or keyring."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from keyring.backend import KeyringBackend

from efa_tui import secrets
from efa_tui.config import Config, ConfigError, Profile, config_dir, load_config, resolve_profile, save_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "efa-tui.example.toml"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        del self.store[(service, username)]


class BrokenKeyring(MemoryKeyring):
    """Like SecretService without a D-Bus session: every call raises."""

    def get_password(self, service, username):
        raise RuntimeError("no D-Bus session")

    set_password = delete_password = get_password


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cfg"
    monkeypatch.setenv("EFA_TUI_CONFIG_DIR", str(directory))
    monkeypatch.delenv("EFA_TUI_TOKEN", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield directory
    keyring.set_keyring(previous)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "Traceback" not in str(info.value) and "pydantic" not in str(info.value)
    return info.value


# -- config file ---------------------------------------------------------------------------------------


def test_config_dir_honours_env(isolated):
    assert config_dir() == isolated


def test_defaults_without_a_file(isolated):
    config = load_config()
    assert not (isolated / "config.toml").exists()
    assert config.default_profile == "demo" and config.language == "de" and config.theme == "textual-dark"
    assert config.keymap == {}
    demo = config.profile("demo")
    assert demo.server_url is None and demo.is_embedded
    assert demo.token_source == "demo" and demo.demo_identity == "customer"
    assert demo.timeout_s == 10.0 and demo.connect_timeout_s == 5.0 and demo.ca_bundle is None
    assert demo.name == "demo"


def test_token_source_default_depends_on_server_url():
    assert Profile().token_source == "demo"
    assert Profile(server_url="https://m.example.org/api/v1").token_source == "keyring"


def test_demo_profile_always_present(tmp_path):
    config = load_config(write(tmp_path / "c.toml", '[profiles.remote]\nserver_url = "https://m.example.org/api/v1"\n'))
    assert set(config.profiles) == {"demo", "remote"}


def test_round_trip(isolated):
    config = Config(
        default_profile="land-hessen",
        language="en",
        theme="light",
        keymap={"catalog.filter": "f", "app.help": "f1"},
        profiles={
            "land-hessen": Profile(
                server_url="https://marketplace.example.org/api/v1",
                token_source="file",
                ca_bundle="~/certs/landes-ca.pem",
                timeout_s=30.5,
                connect_timeout_s=2,
            ),
            "local": Profile(server_url="http://127.0.0.1:8080/api/v1", token_source="demo", demo_identity="provider-2"),
        },
    )
    written = save_config(config)
    assert written == isolated / "config.toml"
    assert stat.S_IMODE(isolated.stat().st_mode) == 0o700
    assert [p.name for p in isolated.iterdir()] == ["config.toml"]  # no temp file left behind
    loaded = load_config()
    assert loaded == config
    assert loaded.profile("land-hessen").name == "land-hessen"
    # and once more: a second save of the loaded config writes the same bytes
    before = written.read_bytes()
    save_config(loaded)
    assert written.read_bytes() == before


def test_unknown_profile_lists_known():
    with pytest.raises(ConfigError, match="known profiles: demo"):
        Config().profile("nope")


def test_invalid_toml_names_line(tmp_path):
    error = error_for(tmp_path, 'language = "de"\ntheme = "dark"\n[profiles.x\nserver_url = 1\n')
    assert error.line == 3
    assert "line 3" in str(error)


@pytest.mark.parametrize(
    ("text", "key", "line", "allowed"),
    [
        ('language = "fr"\n', "language", 1, "'de' or 'en'"),
        ('theme = "solarized"\n', "theme", 1, "ansi-dark"),
        ('theme = "dark"\n\n[profiles.x]\nserver_url = "https://x.example.org"\ntimeout_s = -1\n', "profiles.x.timeout_s", 5, "1"),
        ("[profiles.x]\ntimeout_s = 500\n", "profiles.x.timeout_s", 2, "120"),
        ('[profiles.x]\ntoken_source = "password"\n', "profiles.x.token_source", 2, "'keyring'"),
        ('[profiles.x]\ndemo_identity = "admin"\n', "profiles.x.demo_identity", 2, "'provider-2'"),
        ('[profiles.x]\ntimout_s = 3\n', "profiles.x.timout_s", 2, "timeout_s"),
        ('[profiles.x]\nverify_tls = false\n', "profiles.x.verify_tls", 2, "ca_bundle"),
        ('[profiles.x]\nserver_url = "http://marketplace.example.org"\n', "profiles.x.server_url", 2, "https"),
        ('[profiles.x]\nserver_url = "ftp://marketplace.example.org"\n', "profiles.x.server_url", 2, "https"),
        ('[keymap]\n"catalog.filter" = 3\n', 'keymap."catalog.filter"', 2, "string"),
        ('default_profile = "prod"\n', "default_profile", 1, "demo"),
        ('[profiles."../evil"]\n', "profiles", 1, "letters"),
        ('profiles.x = { timeout_s = 0 }\n', "profiles.x.timeout_s", 1, "1"),
    ],
)
def test_wrong_value_names_key(tmp_path, text, key, line, allowed):
    error = error_for(tmp_path, text)
    message = str(error)
    assert key in message
    assert allowed in message
    assert error.line == line, message
    assert f"line {line}" in message


def test_several_errors_reported_together(tmp_path):
    message = str(error_for(tmp_path, 'language = "fr"\n[profiles.x]\ntimeout_s = -1\n'))
    assert "language" in message and "profiles.x.timeout_s" in message


def test_unreadable_file_is_config_error(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)  # a directory


def test_example_file_parses():
    config = load_config(EXAMPLE)
    assert config.default_profile == "demo"
    assert config.keymap["catalog.filter"] == "/"
    assert config.keymap["app.help"] == "?" and config.keymap["app.jump"] == ":"
    assert config.profile("demo").is_embedded
    remote = config.profile("land-hessen")
    assert remote.server_url == "https://marketplace.example.org/api/v1"
    assert remote.token_source == "keyring"
    # the example keeps its promise that the defaults avoid tmux keys
    assert not {"ctrl+a", "ctrl+b", "ctrl+h", "ctrl+j", "ctrl+k", "ctrl+l"} & set(config.keymap.values())


def test_ca_bundle_path(isolated):
    assert Profile(ca_bundle="ca.pem").ca_bundle_path == isolated / "ca.pem"
    assert Profile(ca_bundle="/etc/ssl/ca.pem").ca_bundle_path == Path("/etc/ssl/ca.pem")
    assert Profile(ca_bundle="~/ca.pem").ca_bundle_path == Path.home() / "ca.pem"


# -- CLI profile resolution ----------------------------------------------------------------------------


def test_resolve_default_and_named_profile():
    config = Config(profiles={"remote": Profile(server_url="https://m.example.org/api/v1")}, default_profile="remote")
    assert resolve_profile(config, None).name == "remote"
    assert resolve_profile(config, "demo").is_embedded
    with pytest.raises(ConfigError, match="known profiles: demo, remote"):
        resolve_profile(config, "prod")


def test_server_flag_makes_adhoc_profile():
    config = Config()
    profile = resolve_profile(config, None, "https://staging.example.org/api/v1")
    assert profile.server_url == "https://staging.example.org/api/v1"
    assert profile.name == "adhoc"
    assert profile.token_source == "env"  # a typed-in server never gets a stored token
    assert config.profiles.keys() == {"demo"}  # the config itself is unchanged


def test_server_flag_with_profile_keeps_its_settings():
    config = Config(profiles={"lh": Profile(server_url="https://m.example.org/api/v1", timeout_s=42, token_source="file")})
    profile = resolve_profile(config, "lh", "https://staging.example.org/api/v1")
    assert profile.server_url == "https://staging.example.org/api/v1"
    assert (profile.name, profile.timeout_s, profile.token_source) == ("lh", 42, "file")
    assert config.profile("lh").server_url == "https://m.example.org/api/v1"


def test_server_flag_rejects_bad_url():
    with pytest.raises(ConfigError, match="--server"):
        resolve_profile(Config(), None, "http://marketplace.example.org")


# -- tokens --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("identity", ["customer", "customer-2", "provider", "provider-2", "support", "operator"])
def test_demo_tokens(identity):
    assert secrets.get_token("demo", Profile(demo_identity=identity)) == f"demo-{identity}"


def test_env_token_always_wins(monkeypatch, isolated):
    secrets.store_token("remote", "from-file", prefer_keyring=False)
    monkeypatch.setenv("EFA_TUI_TOKEN", "from-env")
    for source in ("env", "keyring", "file", "demo"):
        assert secrets.get_token("remote", Profile(token_source=source)) == "from-env"


def test_env_source_without_env_has_no_token():
    assert secrets.get_token("x", Profile(token_source="env")) is None


def test_file_fallback_when_keyring_unavailable(isolated):
    assert not secrets.keyring_available()
    assert secrets.store_token("land-hessen", "s3cret-token") == "file"
    tokens = isolated / "tokens"
    path = tokens / "land-hessen.token"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tokens.iterdir()] == ["land-hessen.token"]
    profile = Profile(server_url="https://m.example.org/api/v1")  # token_source keyring
    assert secrets.get_token("land-hessen", profile) == "s3cret-token"
    assert secrets.get_token("land-hessen", Profile(server_url="https://m.example.org/api/v1", token_source="file")) == "s3cret-token"
    # overwriting keeps the mode
    secrets.store_token("land-hessen", "newer")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.get_token("land-hessen", profile) == "newer"
    assert secrets.delete_token("land-hessen") is True
    assert secrets.get_token("land-hessen", profile) is None
    assert secrets.delete_token("land-hessen") is False


def test_token_dir_is_tightened(isolated):
    tokens = isolated / "tokens"
    tokens.mkdir(parents=True, mode=0o755)
    tokens.chmod(0o755)
    secrets.store_token("p", "t")
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o700


def test_file_written_0600_even_with_permissive_umask(isolated):
    import os

    old = os.umask(0)
    try:
        secrets.store_token("p", "t", prefer_keyring=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((isolated / "tokens" / "p.token").stat().st_mode) == 0o600


def test_keyring_used_when_it_works(isolated):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets.store_token("lh", "old", prefer_keyring=False)
    assert secrets.store_token("lh", "in-keyring") == "keyring"
    assert backend.store == {("efa-tui", "lh"): "in-keyring"}
    assert not (isolated / "tokens" / "lh.token").exists()  # no stale copy on disk
    assert secrets.get_token("lh", Profile(server_url="https://m.example.org")) == "in-keyring"
    # storing to the file removes the keyring entry, which would otherwise win
    assert secrets.store_token("lh", "in-file", prefer_keyring=False) == "file"
    assert backend.store == {}
    assert secrets.get_token("lh", Profile(server_url="https://m.example.org")) == "in-file"


def test_broken_keyring_falls_back_to_file(isolated):
    keyring.set_keyring(BrokenKeyring())
    assert secrets.store_token("lh", "tok") == "file"
    assert secrets.get_token("lh", Profile(server_url="https://m.example.org")) == "tok"
    assert secrets.delete_token("lh") is True


def test_null_and_empty_chainer_count_as_unavailable():
    from keyring.backends import chainer, null

    keyring.set_keyring(null.Keyring())
    assert not secrets.keyring_available()
    assert secrets.store_token("lh", "tok") == "file"
    empty = chainer.ChainerBackend()
    if not empty.backends:
        keyring.set_keyring(empty)
        assert not secrets.keyring_available()


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden"])
def test_profile_name_cannot_escape_token_dir(name):
    with pytest.raises(ValueError):
        secrets.store_token(name, "tok", prefer_keyring=False)


@pytest.mark.parametrize("token", ["", "  ", "a\r\nX-Evil: 1", "a b"])
def test_bad_tokens_rejected(token):
    with pytest.raises(ValueError):
        secrets.store_token("p", token)


def test_redact():
    assert secrets.redact("401 for Bearer abc123: abc123", "abc123") == "401 for Bearer ***: ***"
    assert secrets.redact("nothing", None) == "nothing"
    assert secrets.redact("nothing", "") == "nothing"


@pytest.mark.parametrize("before, after", [
    ("", 'language = "en"\n'),
    ('# mine\ntheme = "textual-light"  # projector\n\n[keymap]\n"catalog.filter" = "F3"\n',
     '# mine\ntheme = "textual-light"  # projector\nlanguage = "en"\n\n[keymap]\n"catalog.filter" = "F3"\n'),
    ('language = "de"  # the office\n[keymap]\na = "b"\n', 'language = "en"  # the office\n[keymap]\na = "b"\n'),
])
def test_set_setting_keeps_the_rest_of_the_file(tmp_path, before, after):
    from efa_tui.config import set_setting

    path = tmp_path / "config.toml"
    if before:
        path.write_text(before, encoding="utf-8")
    set_setting("language", "en", path)
    assert path.read_text(encoding="utf-8") == after
    assert load_config(path).language == "en"
