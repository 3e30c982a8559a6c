"""``efa-tui login`` and ``efa-tui logout``: a token handed over by an administrator becomes a
profile of this client — checked with ``/me`` before anything is stored, stored as every token
is (EFA_TUI_TOKEN, else the keyring when one works, else a 0600 file), never echoed or logged."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from typing import TextIO
from urllib.parse import urlsplit

from . import i18n
from .api.discovery import API_PATH, api_url

__all__ = ["API_PATH", "api_url", "login", "logout"]


def add_parsers(sub: argparse._SubParsersAction) -> None:
    login = sub.add_parser("login", help="store a token for a marketplace server (checked with /me first)")
    login.add_argument("--server", dest="login_server", metavar="URL",
                       help="the marketplace, e.g. https://marktplatz.example.org (default: the profile's)")
    login.add_argument("--profile", dest="login_profile", metavar="NAME",
                       help="profile to write (default: named after the server's host)")
    login.add_argument("--no-default", action="store_true", help="do not make it the default profile")
    logout = sub.add_parser("logout", help="forget the stored token of a profile")
    logout.add_argument("--profile", dest="login_profile", metavar="NAME", help="profile (default: the default profile)")


def profile_name_for(url: str) -> str:
    host = urlsplit(url).hostname or "server"
    return re.sub(r"[^a-z0-9-]+", "-", host.lower()).strip("-")[:40] or "server"


def _read_token(stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass(i18n.t("login.prompt"))
    return stdin.readline().strip()


async def _whoami(url: str, token: str, ca_bundle: str | None):
    from .api.client import ApiClient

    async with ApiClient(url, token, retry_attempts=1, verify=ca_bundle or True) as api:
        return await api.me()


def login(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    from .api.errors import ApiError, Unauthorized, Unreachable
    from .config import Config, ConfigError, check_server_url, load_config, save_config
    from .secrets import store_token

    try:
        config = load_config()
        existing = config.profiles.get(args.login_profile) if args.login_profile else None
        if args.login_server:
            url = check_server_url(api_url(args.login_server))
        elif existing is not None and existing.server_url:
            url = existing.server_url
        else:
            print(i18n.t("login.no_server"), file=sys.stderr)
            return 2
        name = args.login_profile or profile_name_for(url)
        token = _read_token(stdin)
        if not token:
            print(i18n.t("login.no_token"), file=sys.stderr)
            return 2
        ca_bundle = existing.ca_bundle if existing is not None else None
        try:
            me = asyncio.run(_whoami(url, token, ca_bundle))
        except Unauthorized as exc:
            print(i18n.t("login.refused", detail=exc.detail or exc.title), file=sys.stderr)
            return 1
        except Unreachable as exc:
            print(i18n.t("login.unreachable", url=url, reason=str(exc)), file=sys.stderr)
            return 2
        except ApiError as exc:
            print(i18n.t("login.refused", detail=exc.detail or exc.title), file=sys.stderr)
            return 1
        where = store_token(name, token)
        data = config.model_dump(mode="python", exclude_none=True)
        kept = data["profiles"].get(name, {})
        # token_source "keyring" reads the keyring and falls back to the 0600 file store_token chose.
        data["profiles"][name] = {**kept, "server_url": url, "token_source": "keyring"}
        if not args.no_default:
            data["default_profile"] = name
        path = save_config(Config.model_validate(data))
    except (ConfigError, ValueError) as exc:
        print(f"efa-tui login: {exc}", file=sys.stderr)
        return 2
    org = me.organization.name if me.organization else ""
    print(i18n.t("login.done", name=me.name, role=i18n.t(f"admin.role.{me.role}"), org=org, url=url, profile=name,
                 where=i18n.t(f"login.where.{where}"), config=str(path),
                 default=i18n.t("login.default") if not args.no_default else ""), file=out)
    return 0


def logout(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from .config import ConfigError, load_config
    from .secrets import delete_token

    try:
        config = load_config()
        name = args.login_profile or config.default_profile
        config.profile(name)
        had = delete_token(name)
    except (ConfigError, ValueError) as exc:
        print(f"efa-tui logout: {exc}", file=sys.stderr)
        return 2
    print(i18n.t("logout.done" if had else "logout.none", profile=name), file=out)
    return 0
