"""Messages of the XRechnung check (``efa-tui invoice check``, the TUI's findings): id → (Deutsch, English).

The official rules bring their own rule ids and texts; these are the labels around them and the
texts of the project's own checks."""

MESSAGES: dict[str, tuple[str, str]] = {
    # levels and verdicts
    "xr.level.error": ("FEHLER", "ERROR"),
    "xr.level.warning": ("WARNUNG", "WARNING"),
    "xr.level.information": ("INFO", "INFO"),
    "xr.verdict.accepted": ("angenommen", "accepted"),
    "xr.verdict.rejected": ("abgelehnt", "rejected"),
    "xr.verdict.incomplete": ("nicht abschließend geprüft", "not fully checked"),
    "xr.verdict.unsupported": ("nicht unterstützt", "not supported"),
    "xr.verdict.unreadable": ("nicht lesbar", "unreadable"),
    "xr.counts": ("{errors}, {warnings}", "{errors}, {warnings}"),
    "xr.errors": ("{n} Fehler|{n} Fehler", "{n} error|{n} errors"),
    "xr.warnings": ("{n} Warnung|{n} Warnungen", "{n} warning|{n} warnings"),
    "xr.summary": ("{file}: {verdict} – {detail}", "{file}: {verdict} – {detail}"),
    "xr.accepted_as": ("gültig nach „{scenario}“ ({rules})", "valid by “{scenario}” ({rules})"),
    "xr.rejected_as": ("Szenario „{scenario}“ ({rules})", "scenario “{scenario}” ({rules})"),
    "xr.offline_only": ("nur XML-Schema, EN-16931-Rechenregeln und eigene Prüfungen (offizielle Regeln nicht installiert)",
                        "XML schema, EN 16931 arithmetic and own checks only (official rules not installed)"),
    "xr.total": ("{accepted} angenommen, {rejected} abgelehnt, {other} nicht geprüft",
                 "{accepted} accepted, {rejected} rejected, {other} not checked"),
    "xr.no_rules": ("Hinweis: Die offiziellen XRechnung-Prüfregeln (KoSIT validator-configuration-xrechnung) sind nicht "
                    "installiert. Geprüft werden nur XML-Schema, EN-16931-Rechenregeln und eigene Prüfungen; keine Datei "
                    "wird so als gültige XRechnung bestätigt. Installieren: efa-tui invoice rules install PFAD "
                    "(Verzeichnis oder ZIP der offiziellen Konfiguration)",
                    "Note: the official XRechnung rules (KoSIT validator-configuration-xrechnung) are not installed. "
                    "Only the XML schema, the EN 16931 arithmetic and our own checks are run; no file is confirmed as "
                    "valid XRechnung this way. Install them: efa-tui invoice rules install PATH (directory or zip of the "
                    "official configuration)"),
    "xr.no_rules_short": ("Nicht abschließend geprüft: Schema, Rechenregeln und eigene Prüfungen ohne Fehler; die "
                          "offiziellen XRechnung-Regeln sind nicht installiert (efa-tui invoice rules install PFAD).",
                          "Not fully checked: schema, arithmetic and our own checks found no error; the official "
                          "XRechnung rules are not installed (efa-tui invoice rules install PATH)."),
    "xr.file_missing": ("Datei nicht gefunden (oder keine Datei)", "file not found (or not a file)"),
    "xr.too_large": ("Die Datei ist größer als {limit} MB und wird nicht geprüft.",
                     "The file is larger than {limit} MB and is not checked."),
    "xr.not_xml": ("Die Datei ist kein wohlgeformtes XML: {reason}", "The file is not well-formed XML: {reason}"),
    "xr.doctype": ("Die Datei enthält eine DTD (DOCTYPE, Entitäten); eine XRechnung hat keine – aus Sicherheitsgründen "
                   "nicht geprüft.",
                   "The file contains a DTD (DOCTYPE, entities); an XRechnung has none – not checked, for safety."),
    "xr.no_scenario": ("Kein Szenario der Prüfkonfiguration passt (Spezifikationskennung BT-24 / Wurzelelement {root}): "
                       "keine XRechnung oder EN-16931-Rechnung, die diese Regeln kennen.",
                       "No scenario of the configuration matches (specification identifier BT-24 / root element {root}): "
                       "not an XRechnung or EN 16931 invoice these rules know."),
    "xr.unsupported_root": ("Wurzelelement {root}: weder CII (rsm:CrossIndustryInvoice) noch UBL (Invoice, CreditNote).",
                            "Root element {root}: neither CII (rsm:CrossIndustryInvoice) nor UBL (Invoice, CreditNote)."),
    "xr.internal": ("Die Prüfung ist an dieser Datei gescheitert: {reason}", "The check failed on this file: {reason}"),
    "xr.xsd": ("Verstoß gegen das XML-Schema: {reason}", "XML schema violation: {reason}"),
    "xr.leitweg": ("Käuferreferenz „{value}“ hat die Form einer Leitweg-ID, aber: {reason} (die offiziellen Regeln "
                   "verlangen das nicht; die Rechnung wird trotzdem zugestellt, wenn die ID stimmt)",
                   "Buyer reference “{value}” has the form of a Leitweg-ID, but: {reason} (the official rules do not "
                   "require it; the invoice is still delivered when the ID is right)"),
    "xr.step.skipped": ("übersprungen: {steps}", "skipped: {steps}"),
    # the project's own EN 16931 arithmetic (used without the official rules)
    "xr.own.br-16": ("Die Rechnung enthält keine Rechnungsposition (BG-25).", "The invoice has no invoice line (BG-25)."),
    "xr.own.missing": ("{term} fehlt.", "{term} is missing."),
    "xr.own.br-co-10": ("Summe der Positionsnettobeträge (BT-106) {stated} ≠ Σ Positionen (BT-131) {expected}.",
                        "Sum of invoice line net amount (BT-106) {stated} ≠ Σ invoice line net amounts (BT-131) {expected}."),
    "xr.own.br-co-13": ("Nettobetrag (BT-109) {stated} ≠ BT-106 − BT-107 + BT-108 = {expected}.",
                        "Invoice total without VAT (BT-109) {stated} ≠ BT-106 − BT-107 + BT-108 = {expected}."),
    "xr.own.br-co-14": ("Umsatzsteuer gesamt (BT-110) {stated} ≠ Σ Steuerbeträge je Kategorie (BT-117) {expected}.",
                        "Invoice total VAT (BT-110) {stated} ≠ Σ VAT category tax amounts (BT-117) {expected}."),
    "xr.own.br-co-15": ("Gesamtbetrag (BT-112) {stated} ≠ Nettobetrag (BT-109) + Umsatzsteuer (BT-110) = {expected}.",
                        "Invoice total with VAT (BT-112) {stated} ≠ BT-109 + BT-110 = {expected}."),
    "xr.own.br-co-16": ("Zahlbetrag (BT-115) {stated} ≠ BT-112 − BT-113 + BT-114 = {expected}.",
                        "Amount due (BT-115) {stated} ≠ BT-112 − BT-113 + BT-114 = {expected}."),
    "xr.own.br-co-17": ("Steuerbetrag (BT-117) {stated} ≠ Bemessungsgrundlage (BT-116) × {rate} % = {expected}.",
                        "VAT category tax amount (BT-117) {stated} ≠ taxable amount (BT-116) × {rate} % = {expected}."),
    # German lead-ins for official rules users of the marketplace meet most (shown before the official text)
    "xr.hint.br-co-10": ("Summe der Positionsnettobeträge stimmt nicht", "Sum of line net amounts does not add up"),
    "xr.hint.br-co-13": ("Nettobetrag stimmt nicht", "Net total does not add up"),
    "xr.hint.br-co-14": ("Umsatzsteuer gesamt stimmt nicht", "Total VAT does not add up"),
    "xr.hint.br-co-15": ("Gesamtbetrag stimmt nicht mit Nettobetrag plus Umsatzsteuer überein", "Gross total ≠ net + VAT"),
    "xr.hint.br-co-16": ("Zahlbetrag stimmt nicht", "Amount due does not add up"),
    "xr.hint.br-co-17": ("Steuerbetrag einer Steuerkategorie stimmt nicht", "VAT of a category does not add up"),
    "xr.hint.br-de-15": ("Käuferreferenz (Leitweg-ID) fehlt", "Buyer reference (Leitweg-ID) missing"),
    "xr.hint.br-de-21": ("Falsche Spezifikationskennung", "Wrong specification identifier"),
    "xr.hint.peppol-en16931-r001": ("Geschäftsprozess (BT-23) fehlt", "Business process (BT-23) missing"),
    "xr.hint.peppol-en16931-r008": ("Leeres Element", "Empty element"),
    "xr.hint.xsd": ("Verstoß gegen das XML-Schema", "XML schema violation"),
    # the TUI's findings screen and save dialog
    "xr.tui.accepted": ("Angenommen nach den offiziellen Regeln: {scenario} ({rules}).",
                        "Accepted by the official rules: {scenario} ({rules})."),
    "xr.tui.rejected": ("Abgelehnt: {n} Fehler.|Abgelehnt: {n} Fehler.", "Rejected: {n} error.|Rejected: {n} errors."),
    "xr.tui.level.error": ("Fehler", "Error"),
    "xr.tui.level.warning": ("Warnung", "Warning"),
    "xr.tui.level.information": ("Information", "Information"),
    # efa-tui invoice rules
    "xr.rules.none": ("Keine offiziellen XRechnung-Regeln installiert. Installieren: efa-tui invoice rules install PFAD",
                      "No official XRechnung rules installed. Install: efa-tui invoice rules install PATH"),
    "xr.rules.row": ("{mark} {name} (Version {version})\n    Prüfsumme sha256:{checksum}{changed}\n    {path}",
                     "{mark} {name} (version {version})\n    checksum sha256:{checksum}{changed}\n    {path}"),
    "xr.rules.changed": (" – GEÄNDERT seit der Installation", " – CHANGED since it was installed"),
    "xr.rules.installed": ("Installiert und aktiv: {name} (Version {version}), sha256:{checksum}",
                           "Installed and active: {name} (version {version}), sha256:{checksum}"),
    "xr.rules.using": ("Regeln: {name} (sha256:{checksum})", "Rules: {name} (sha256:{checksum})"),
    "xr.rules.failed": ("efa-tui invoice rules: {reason}", "efa-tui invoice rules: {reason}"),
}
