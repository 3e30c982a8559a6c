"""The official validator configuration (KoSIT ``validator-configuration-xrechnung``) as data.

A configuration is a directory with ``scenarios.xml`` and the ``resources/`` it names (XML
schemas, schematron compiled to XSLT), laid out as in the official release zip. It is not part of
this package: ``efa-tui invoice rules install PATH`` copies one (a directory or the release zip)
into the user data dir, where ``installed()`` and ``active()`` find it again.

Layout of the data dir::

    <user data dir>/xrechnung-rules/<version>-<checksum[:12]>/scenarios.xml, resources/…, rules.json
    <user data dir>/xrechnung-rules/active          (the directory name of the rules in use)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from lxml import etree

from ..files import user_dir

SCENARIOS_NS = "http://www.xoev.de/de/validator/framework/1/scenarios"
S = "{" + SCENARIOS_NS + "}"
MAX_ZIP_BYTES = 300 * 1024 * 1024  # the official release unpacks to about 20 MB
MAX_ZIP_MEMBERS = 20_000


class RulesError(Exception):
    """A configuration that cannot be used; the message says why (German and English)."""

    def __init__(self, de: str, en: str):
        super().__init__(de)
        self.de, self.en = de, en


@dataclass(frozen=True)
class RulesInfo:
    name: str  # the configuration's own <name>, e.g. "Validator Configuration XRechnung 3.0.2"
    version: str  # "3.0.2" (from the name, else from the zip's file name), "" when unknown
    checksum: str  # sha256 over scenarios.xml and resources/ (paths and bytes)
    path: str = ""  # where it lives
    source: str = ""  # what it was installed from
    installed_at: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def rules_home() -> Path:
    return user_dir("data") / "xrechnung-rules"


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_scenarios(directory: Path) -> etree._Element:
    """The parsed ``scenarios.xml`` of a configuration directory; RulesError when it is not one."""
    path = directory / "scenarios.xml"
    if not path.is_file():
        raise RulesError(f"{directory}: keine scenarios.xml – kein Verzeichnis einer Prüfkonfiguration",
                         f"{directory}: no scenarios.xml – not a validator configuration directory")
    try:
        root = etree.parse(str(path), _safe_parser()).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise RulesError(f"{path}: nicht lesbar: {exc}", f"{path}: cannot be read: {exc}") from None
    if root.tag != f"{S}scenarios" or root.find(f"{S}scenario") is None:
        raise RulesError(f"{path}: keine Szenarien des KoSIT-Prüftools ({SCENARIOS_NS})",
                         f"{path}: no KoSIT validator scenarios ({SCENARIOS_NS})")
    return root


def checksum(directory: Path) -> str:
    """sha256 over scenarios.xml and every file below resources/, in path order."""
    digest = hashlib.sha256()
    files = [directory / "scenarios.xml"] + sorted(p for p in (directory / "resources").rglob("*") if p.is_file())
    for path in files:
        rel = path.relative_to(directory).as_posix()
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def describe(directory: Path, source_name: str = "") -> RulesInfo:
    root = read_scenarios(directory)
    name = " ".join((root.findtext(f"{S}name") or "").split()) or directory.name
    found = re.search(r"\d+\.\d+(?:\.\d+)?", name) or re.search(r"\d+\.\d+(?:\.\d+)?", source_name)
    return RulesInfo(name, found.group(0) if found else "", checksum(directory), str(directory))


def _unpack(archive: Path, target: Path) -> None:
    """The configuration inside a release zip into ``target`` (scenarios.xml at its top)."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RulesError(f"{archive}: kein lesbares ZIP-Archiv: {exc}", f"{archive}: not a readable zip archive: {exc}") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise RulesError(f"{archive}: zu groß für eine Prüfkonfiguration", f"{archive}: too large for a validator configuration")
        tops = sorted((m.filename for m in members if PurePosixPath(m.filename).name == "scenarios.xml"),
                      key=lambda n: n.count("/"))
        if not tops:
            raise RulesError(f"{archive}: enthält keine scenarios.xml", f"{archive}: contains no scenarios.xml")
        prefix = tops[0][: -len("scenarios.xml")]
        for member in members:
            name = member.filename
            if member.is_dir() or not name.startswith(prefix):
                continue
            rel = PurePosixPath(name[len(prefix):])
            if rel.is_absolute() or ".." in rel.parts or "\\" in name or (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise RulesError(f"{archive}: unsicherer Pfad im Archiv: {name}", f"{archive}: unsafe path in the archive: {name}")
            if rel.parts[0] not in ("scenarios.xml", "resources"):
                continue  # licences, readme, the report stylesheets' siblings: not needed to validate
            out = target.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)


def install(source: str | os.PathLike, home: Path | None = None) -> RulesInfo:
    """Copy a configuration (directory or release zip) into the data dir and make it the active one."""
    src = Path(source).expanduser()
    home = home or rules_home()
    home.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".install-", dir=home))
    try:
        staged = work / "rules"
        if src.is_dir():
            read_scenarios(src)  # refuse before copying anything
            staged.mkdir()
            shutil.copy2(src / "scenarios.xml", staged / "scenarios.xml")
            if (src / "resources").is_dir():
                shutil.copytree(src / "resources", staged / "resources", symlinks=False)
        elif src.is_file():
            staged.mkdir()
            _unpack(src, staged)
        else:
            raise RulesError(f"{src}: nicht gefunden", f"{src}: not found")
        info = describe(staged, src.name)
        slug = f"{info.version or 'rules'}-{info.checksum[:12]}"
        final = home / slug
        info = RulesInfo(info.name, info.version, info.checksum, str(final), str(src.resolve()),
                         datetime.now(UTC).isoformat(timespec="seconds"))
        (staged / "rules.json").write_text(json.dumps(info.as_dict(), indent=1, ensure_ascii=False), "utf-8")
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)
        tmp_active = home / ".active.tmp"
        tmp_active.write_text(slug + "\n", "utf-8")
        tmp_active.replace(home / "active")
        return info
    except OSError as exc:
        raise RulesError(f"Installation fehlgeschlagen: {exc}", f"installation failed: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def installed(home: Path | None = None) -> list[RulesInfo]:
    """Every installed configuration, as recorded when it was installed."""
    home = home or rules_home()
    out = []
    for meta in sorted(home.glob("*/rules.json")):
        try:
            data = json.loads(meta.read_text("utf-8"))
            out.append(RulesInfo(**{**data, "path": str(meta.parent)}))
        except (OSError, ValueError, TypeError):
            continue
    return out


def active(home: Path | None = None) -> RulesInfo | None:
    """The configuration in use (the one installed last), or None when none is installed."""
    home = home or rules_home()
    try:
        slug = (home / "active").read_text("utf-8").strip()
    except OSError:
        return None
    return next((r for r in installed(home) if Path(r.path).name == slug), None)
