"""Check an XRechnung (CII or UBL; standard, extension, CVD) the way the KoSIT validator does.

With an official configuration (``efa-tui invoice rules install``, or ``rules=`` for one call) the
verdict is the configuration's: scenario by its match XPaths, its schema and schematron steps, its
custom levels (``kosit.py``). Without one, only what needs no official rules is checked (schema,
EN 16931 arithmetic, a few XRechnung basics: ``offline.py``); a document can then be rejected,
but it is never called valid XRechnung (verdict ``incomplete``).

Every input gets a report, never an exception: files over ``MAX_BYTES``, non-XML, DTDs (external
entities, entity bombs: refused before anything resolves them) and failures inside a step become
findings. The project's own Leitweg-ID check is a warning.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lxml import etree

from .. import i18n
from . import offline
from .rules import RulesError, RulesInfo
from .rules import active as active_rules

MAX_BYTES = 20 * 1024 * 1024  # XRechnung platforms accept up to 15–20 MB with attachments

Severity = Literal["fatal", "warning", "information"]
Verdict = Literal["accepted", "rejected", "incomplete", "unsupported", "unreadable"]
_SEVERITY: dict[str, Severity] = {"error": "fatal", "warning": "warning", "information": "information"}
EXIT = {"accepted": 0, "rejected": 1, "incomplete": 2, "unsupported": 2, "unreadable": 2}


@dataclass(frozen=True)
class Finding:
    rule: str  # the official rule id (BR-CO-15, PEPPOL-EN16931-R001, BR-DE-15), XSD, or ours (LEITWEG-ID, XML)
    text: str  # the official rule's text; ours in the current language
    severity: Severity  # "fatal" = level error (rejects), "warning", "information"
    location: str = ""  # XPath or line number
    step: str = ""  # the step that found it: xsd, EN16931-CII-validation, XRechnung-CII-validation, own, …
    hint: str = ""  # a German lead-in for the rules users meet most (German UI only)

    @property
    def message(self) -> str:
        return f"{self.hint}: {self.text}" if self.hint and self.text else (self.text or self.hint)

    @property
    def level(self) -> str:
        return {"fatal": "error"}.get(self.severity, self.severity)


@dataclass
class Report:
    source: str
    verdict: Verdict
    findings: list[Finding] = field(default_factory=list)
    scenario: str | None = None
    rules: RulesInfo | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    @property
    def errors(self) -> int:
        return sum(f.severity == "fatal" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return EXIT[self.verdict]

    def as_dict(self) -> dict:
        return {
            "file": self.source, "verdict": self.verdict, "accepted": self.accepted, "scenario": self.scenario,
            "rules": None if self.rules is None else {k: v for k, v in self.rules.as_dict().items() if k in ("name", "version", "checksum")},
            "steps": self.steps, "errors": self.errors, "warnings": self.warnings,
            "findings": [{"level": f.level, "rule": f.rule, "text": f.text, "location": f.location, "step": f.step}
                         for f in self.findings],
        }


def is_valid(findings: list[Finding]) -> bool:
    """True when no finding is of level error (warnings do not stop an invoice)."""
    return not any(f.severity == "fatal" for f in findings)


def short_path(location: str) -> str:
    """"/*:Invoice[namespace-uri()='…'][1]/Q{urn:…}Note[1]" → "/Invoice[1]/Note[1]"."""
    location = re.sub(r"\[namespace-uri\(\)='[^']*'\]", "", location).replace("*:", "")
    return re.sub(r"Q\{[^}]*\}", "", location)


def _hint(rule: str) -> str:
    if i18n.current_language() != "de":
        return ""
    key = f"xr.hint.{rule.lower()}"
    return i18n.t(key) if key in i18n.MESSAGES else ""


def _finding(level: str, code: str, text: str, location: str = "", step: str = "", hint: bool = True) -> Finding:
    return Finding(code, text, _SEVERITY.get(level, "fatal"), short_path(location), step, _hint(code) if hint else "")


def resolve_rules(rules: str | os.PathLike | None = None):
    """The engine for ``rules`` (a configuration directory), else for the installed configuration;
    None when none is installed. RulesError when ``rules`` is given and unusable."""
    from .kosit import engine_for

    if rules is not None:
        return engine_for(Path(rules).expanduser())
    info = active_rules()
    if info is None:
        return None
    try:
        return engine_for(Path(info.path), info)
    except (RulesError, OSError):
        return None


def _load(source: bytes | str | os.PathLike) -> bytes:
    """Bytes are XML; a str that starts with '<' is XML text; anything else is a file path."""
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and source.lstrip("\ufeff \t\r\n").startswith("<"):
        data = source.encode("utf-8")
    else:
        path = Path(source)
        if path.stat().st_size > MAX_BYTES:
            raise _Refused("xr.too_large", limit=MAX_BYTES // (1024 * 1024))
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _Refused("xr.too_large", limit=MAX_BYTES // (1024 * 1024))
    return data


class _Refused(Exception):
    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key, self.values = key, values


_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)


def parse_safely(data: bytes) -> etree._ElementTree:
    """lxml with no entity resolution, no network, no DTD, libxml2's size limits; a DOCTYPE is refused."""
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise _Refused("xr.not_xml", reason=str(exc)) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise _Refused("xr.not_xml", reason=str(exc)) from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None or tree.docinfo.doctype:
        raise _Refused("xr.doctype")
    return tree


def check_document(source: bytes | str | os.PathLike, *, rules=None, name: str = "", engine=None) -> Report:
    """The report for one document. ``rules``: a configuration directory for this call (else the
    installed one); ``engine``: an engine already resolved (for many files)."""
    label = name or (str(source) if isinstance(source, (str, os.PathLike)) and not str(source).lstrip().startswith("<") else "")
    try:
        if engine is None:
            engine = resolve_rules(rules)
        return _check(source, label, engine)
    except _Refused as exc:
        return Report(label, "unreadable", [Finding("XML", i18n.t(exc.key, **exc.values), "fatal", "", "read")],
                      rules=getattr(engine, "info", None))
    except RulesError:
        raise
    except OSError as exc:
        return Report(label, "unreadable", [Finding("FILE", exc.strerror or str(exc), "fatal", "", "read")])
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the others
        return Report(label, "unreadable", [Finding("INTERNAL", i18n.t("xr.internal", reason=f"{type(exc).__name__}: {exc}"),
                                                     "fatal", "", "internal")], rules=getattr(engine, "info", None))


def _check(source, label: str, engine) -> Report:
    tree = parse_safely(_load(source))
    root = tree.getroot()
    syntax = offline.syntax_of(root)
    own_step = "efa-tui"
    if engine is not None:
        outcome = engine.check(tree, etree.tostring(tree, encoding="unicode"))
        report = Report(label, "rejected", rules=engine.info, scenario=outcome.scenario, steps=list(outcome.steps))
        if outcome.scenario is None:
            report.verdict = "unsupported"
            report.findings.append(Finding("NO-SCENARIO", i18n.t("xr.no_scenario", root=root.tag), "fatal", "/", "match"))
            return report
        report.findings += [_finding(m.level, m.code, m.text, m.location, m.step) for m in outcome.messages]
    else:
        report = Report(label, "rejected", steps=[])
        if syntax is None:
            report.verdict = "unsupported"
            report.findings.append(Finding("SYNTAX", i18n.t("xr.unsupported_root", root=root.tag), "fatal", "/", "match"))
            return report
        schema = offline.schema_findings(tree, syntax)
        report.steps.append("xsd-factur-x")
        report.findings += [_finding(o.level, o.code, o.text, o.location, "xsd") for o in schema]
        if not schema:
            report.steps.append("en16931-arithmetic")
            report.steps.append("xrechnung-basics")
            own = offline.arithmetic(root, syntax) + offline.xrechnung_basics(root, syntax)
            report.findings += [_finding(o.level, o.code, o.text, o.location, own_step, hint=False) for o in own]
    if syntax is not None:
        report.findings += [_finding(o.level, o.code, o.text, o.location, own_step, hint=False)
                            for o in offline.leitweg_warning(root, syntax)]
    if any(f.severity == "fatal" for f in report.findings):
        report.verdict = "rejected"
    else:
        report.verdict = "accepted" if engine is not None else "incomplete"
    return report


def validate_xrechnung(source: bytes | str | os.PathLike, rules=None) -> list[Finding]:
    """The findings of ``check_document`` (for callers that only need them)."""
    return check_document(source, rules=rules).findings
