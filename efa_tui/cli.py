"""Command line: ``efa-tui serve`` runs the reference marketplace."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from . import DEMO_IDENTITIES, THEMES, __version__


def _term_days(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 365:
        raise argparse.ArgumentTypeError("a number of days from 0 to 365")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="efa-tui", description="Terminal client and reference server of the EfA marketplace.")
    parser.add_argument("--version", action="version", version=f"efa-tui {__version__}")
    parser.add_argument("--profile", help="profile from the config file (default: its default_profile)")
    parser.add_argument("--server", metavar="URL", help="connect to this marketplace API (e.g. https://host/api/v1)")
    parser.add_argument("--as", dest="identity", choices=DEMO_IDENTITIES,
                        help="demo identity for the embedded demo marketplace")
    parser.add_argument("--lang", choices=["de", "en"], help="language of the interface (default: config, else de)")
    parser.add_argument("--theme", choices=THEMES, help="colour theme")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the reference marketplace server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--database", metavar="URL", default=os.environ.get("EFA_DATABASE_URL"),
                       help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: $EFA_DATABASE_URL, "
                            "else SQLite in the user data dir)")
    serve.add_argument("--demo", action="store_true", help="seed demo data on first run and accept the demo tokens on loopback")
    serve.add_argument("--demo-offerings", type=int, default=0, metavar="N",
                       help="add generated offerings up to N (benchmarks; at most 100000)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="server processes on the one port (default 1); each has its own connection pool")
    serve.add_argument("--pool-size", type=int, default=10, metavar="N",
                       help="database connections each process keeps open (default 10; PostgreSQL)")
    serve.add_argument("--max-overflow", type=int, default=10, metavar="N",
                       help="connections a process may open beyond the pool under load (default 10). Keep "
                            "processes × (pool size + overflow) below PostgreSQL's max_connections − 3")
    serve.add_argument("--payment-term-days", type=_term_days, default=30, metavar="DAYS",
                       help="payment term of invoices: due date = issue date + DAYS (default 30)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    dbp = sub.add_parser("db", help="the marketplace database: schema migrations (server admin)")
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="upgrade the schema to the newest revision (serve does it at start, too)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    cur = dbsub.add_parser("current", help="print the database's revision and the newest one")
    rev = dbsub.add_parser("revision", help="developers: write a new migration from the change to server/db.py")
    rev.add_argument("-m", "--message", required=True, help="what the revision changes")
    for p in (up, cur, rev):
        p.add_argument("--database", metavar="URL", default=os.environ.get("EFA_DATABASE_URL"),
                       help="SQLAlchemy URL (default: $EFA_DATABASE_URL, else SQLite in the user data dir)")
    token = sub.add_parser("token", help="issue a bearer token for a user of the marketplace (server admin)")
    token.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: SQLite in the user data dir)")
    token.add_argument("--org", required=True, help="organisation key, e.g. muenchen")
    token.add_argument("--role", required=True, choices=["customer", "provider", "support", "operator"])
    token.add_argument("--name", required=True, help="the user's name, shown in audit trails")
    token.add_argument("--email", default="")
    from .invoice_cli import add_parser as add_invoice_parser
    from .login_cli import add_parsers as add_login_parsers

    add_invoice_parser(sub)
    add_login_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        if not 0 <= args.demo_offerings <= 100_000:
            parser.error("--demo-offerings must be between 0 and 100000")
        if not 1 <= args.workers <= 64:
            parser.error("--workers must be between 1 and 64")
        if args.pool_size < 1 or args.max_overflow < 0:
            parser.error("--pool-size must be at least 1 and --max-overflow at least 0")
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from sqlalchemy.exc import SQLAlchemyError

        from .files import free_port
        from .server.serve import serve

        port = args.port or free_port(args.host)
        try:
            serve(args.host, port, args.database, demo=args.demo, demo_offerings=args.demo_offerings,
                  log_level=args.log_level, workers=args.workers, pool_size=args.pool_size, max_overflow=args.max_overflow,
                  payment_term_days=args.payment_term_days)
        except (SQLAlchemyError, ImportError) as exc:
            from .server.db import safe_url

            print(f"efa-tui serve: database {safe_url(args.database or 'default')}: {str(exc).splitlines()[0]}", file=sys.stderr)
            return 1
        return 0
    if args.command == "db":
        return run_db(args)
    if args.command == "token":
        from .server.serve import create_token

        try:
            print(create_token(args.database, args.org, args.role, args.name, args.email))
        except ValueError as exc:
            print(f"efa-tui token: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command in ("login", "logout"):
        from . import login_cli

        if args.lang:
            from . import i18n

            i18n.set_language(args.lang)
        return login_cli.login(args) if args.command == "login" else login_cli.logout(args)
    if args.command == "invoice":
        from .invoice_cli import run as run_invoice

        return run_invoice(args)
    if args.command is None:
        return run_app(args)
    parser.print_help()
    return 2


def run_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from .server import db, migrations
    from .server.serve import default_database_url

    url = args.database or default_database_url()
    try:
        engine = db.make_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        print(f"efa-tui db: cannot open {db.safe_url(url)}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.db_command == "upgrade":
            before, after = migrations.upgrade(engine, args.revision)
            print(f"{db.safe_url(url)}: {before or 'empty'} -> {after}" if before != after else f"{db.safe_url(url)}: at {after}, nothing to do")
        elif args.db_command == "current":
            now, newest = migrations.current(engine), migrations.head()
            state = "up to date" if now == newest else ("empty or older than migrations" if now is None else "needs upgrade")
            print(f"current: {now or '-'}\nhead:    {newest}\n({state})")
        else:
            print(migrations.new_revision(engine, args.message))
    except SQLAlchemyError as exc:
        print(f"efa-tui db: {db.safe_url(url)}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def chosen_profile(args: argparse.Namespace):
    """(config, profile) from the config file and ``--profile``/``--server``/``--as``; None after
    saying on stderr what is wrong (the caller exits 2)."""
    from .config import ConfigError, load_config, resolve_profile

    try:
        config = load_config()
        profile = resolve_profile(config, args.profile, args.server)
        if args.identity:
            if not profile.is_embedded:
                raise ConfigError("--as picks a demo identity and works only with the embedded demo marketplace")
            profile = profile.model_copy(update={"demo_identity": args.identity})
    except ConfigError as exc:
        print(f"efa-tui: {exc}", file=sys.stderr)
        return None
    return config, profile


def run_app(args: argparse.Namespace) -> int:
    """The terminal app; with no server configured, against the embedded demo marketplace."""
    from .startup import hold_collections

    hold_collections()  # before the config and the app are imported (startup.py says why)
    chosen = chosen_profile(args)
    if chosen is None:
        return 2
    config, profile = chosen
    if profile.server_url is not None:
        found = _find_api(profile.server_url, args.lang or config.language)
        if found is None:
            return 2
        profile = profile.model_copy(update={"server_url": found})
    logging.basicConfig(filename=_log_file(), level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .app import EfaApp
    from .session import Session

    session = Session.open(config, profile)
    from .config import config_path

    app = EfaApp(session, language=args.lang or config.language, theme=args.theme, config_file=config_path())
    try:
        app.run()
    finally:
        import asyncio

        asyncio.run(session.aclose())
    return 0


def _find_api(url: str, language: str) -> str | None:
    """The API's base URL behind the address as typed (``http://host:8080`` → ``…/api/v1``);
    None after saying on stderr that no marketplace API answers there, and what was tried. A
    server that cannot be reached at all is no error: the app starts offline on its cache."""
    import asyncio

    from .api.discovery import find_api

    found = asyncio.run(find_api(url))
    if found.api is not None:
        return found.api
    if not found.reached:
        return found.guess or url
    from . import i18n

    i18n.set_language(language)
    lines = [f"efa-tui: {i18n.t('server.not_marketplace', url=url)}"]
    lines += [f"  {probe}: {answer}" for probe, answer in found.tried]
    lines.append(i18n.t("server.hint"))
    print("\n".join(lines), file=sys.stderr)
    return None


def _log_file() -> str:
    from .files import user_dir

    path = user_dir("log") / "efa-tui.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
