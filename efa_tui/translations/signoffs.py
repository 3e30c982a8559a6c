"""Messages of the invoice sign-offs, payments and partial credit notes: id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    # --- sign-offs, payments, partial credit notes (screens/invoice_signoff.py)
    "signoff.factual_title": ("Sachlich richtig bestätigen", "Attest: factually correct"),
    "signoff.arithmetic_title": ("Rechnerisch richtig bestätigen", "Attest: arithmetically correct"),
    "signoff.factual_statement": (
        "Ich, {who}, bestätige für {customer}, dass die mit Rechnung {number} über {gross} berechneten Leistungen "
        "bestellt und im Leistungszeitraum {period} wie berechnet erbracht wurden (sachlich richtig).",
        "I, {who}, attest for {customer} that the services billed with invoice {number} over {gross} were ordered and "
        "delivered as billed in the service period {period} (factually correct)."),
    "signoff.arithmetic_statement": (
        "Ich, {who}, bestätige für {customer}, dass Mengen, Einzelpreise, Beträge, Umsatzsteuer und Summen der "
        "Rechnung {number} über {gross} richtig berechnet sind (rechnerisch richtig).",
        "I, {who}, attest for {customer} that the quantities, unit prices, amounts, VAT and totals of invoice {number} "
        "over {gross} are computed correctly (arithmetically correct)."),
    "signoff.recorded": ("Die Bestätigung wird mit Ihrem Namen und dem Zeitpunkt auf dem Server gespeichert. Bis zu einer "
                         "Zahlung kann sie zurückgezogen werden (auch das wird gespeichert).",
                         "The attestation is recorded on the server with your name and the time. Until a payment is "
                         "recorded it can be withdrawn (which is recorded too)."),
    "signoff.check_warning": ("Achtung: die Prüfung hat Abweichungen gefunden oder ist unvollständig.",
                              "Note: the check found differences or is incomplete."),
    "signoff.confirm": ("Bestätigen", "Attest"),
    "signoff.four_eyes": ("Vier-Augen-Prinzip: Sie haben diese Rechnung schon „{other}“ gezeichnet. Üblich ist, dass "
                          "eine zweite Person die andere Feststellung trifft.",
                          "Four eyes: you already attested this invoice as “{other}”. The other attestation is "
                          "usually given by a second person."),
    "signoff.word.factual": ("sachlich richtig", "factually correct"),
    "signoff.word.arithmetic": ("rechnerisch richtig", "arithmetically correct"),
    "signoff.positions": ("Pos. {list}|Pos. {list}", "line {list}|lines {list}"),
    "signoff.blocked_disputed": ("„Sachlich richtig“ ist erst möglich, wenn die Beanstandung von {positions} erledigt ist "
                                 "(u: Beanstandung aufheben, oder eine Gutschrift des Betreibers).",
                                 "“Factually correct” is possible only once the dispute of {positions} is resolved "
                                 "(u: resolve the dispute, or a credit note by the operator)."),
    "signoff.blocked_confirmed": ("Pos. {pos} kann erst beanstandet werden, wenn „sachlich richtig“ zurückgezogen ist (F).",
                                  "Line {pos} can be disputed only after “factually correct” is withdrawn (F)."),
    "signoff.blocked_paid": ("Es ist eine Zahlung gebucht: die Bestätigung kann nicht mehr zurückgezogen werden.",
                             "A payment is recorded: the attestation can no longer be withdrawn."),
    "signoff.not_confirmed": ("Nicht bestätigt – nichts zurückzuziehen.", "Not attested – nothing to withdraw."),
    "signoff.withdraw_factual_title": ("„Sachlich richtig“ zurückziehen", "Withdraw “factually correct”"),
    "signoff.withdraw_arithmetic_title": ("„Rechnerisch richtig“ zurückziehen", "Withdraw “arithmetically correct”"),
    "signoff.withdraw_intro": ("Bestätigung von {who} am {at} für Rechnung {number} zurückziehen. Die Rücknahme wird mit "
                               "Ihrem Namen, dem Zeitpunkt und dem Grund gespeichert.",
                               "Withdraw the attestation by {who} on {at} for invoice {number}. The withdrawal is recorded "
                               "with your name, the time and the reason."),
    "signoff.withdraw": ("Zurückziehen", "Withdraw"),
    "signoff.reason": ("Grund", "Reason"),
    "signoff.resolve_title": ("Beanstandung aufheben", "Resolve the dispute"),
    "signoff.resolve_intro": ("Die Beanstandung von Pos. {pos} („{reason}“) ist erledigt; danach kann „sachlich richtig“ "
                              "bestätigt werden.", "The dispute of line {pos} (“{reason}”) is resolved; after that "
                              "“factually correct” can be attested."),
    "signoff.resolve": ("Aufheben", "Resolve"),
    "signoff.not_disputed": ("Diese Position ist nicht beanstandet.", "This line is not disputed."),
    "signoff.label.withdraw_factual": ("Rechnung {number}: „sachlich richtig“ zurückgezogen",
                                       "Invoice {number}: “factually correct” withdrawn"),
    "signoff.label.withdraw_arithmetic": ("Rechnung {number}: „rechnerisch richtig“ zurückgezogen",
                                          "Invoice {number}: “arithmetically correct” withdrawn"),
    "signoff.label.resolve": ("Rechnung {number}: Beanstandung aufgehoben", "Invoice {number}: dispute resolved"),
    "signoff.key.withdraw_factual": ("sachlich zurückziehen", "withdraw factual"),
    "signoff.key.withdraw_arithmetic": ("rechnerisch zurückziehen", "withdraw arithm."),
    "signoff.key.resolve": ("Beanstandung aufheben", "Resolve dispute"),
    "signoff.key.history": ("Verlauf", "History"),
    "signoff.key.credit": ("Teilgutschrift", "Partial credit"),
    "signoff.payments": ("Zahlungen", "Payments"),
    "signoff.payment_line": ("{amount} am {day} ({reference})", "{amount} on {day} ({reference})"),
    "signoff.open": ("offen {amount}", "open {amount}"),
    "signoff.credited": ("gutgeschrieben {amount}", "credited {amount}"),
    "signoff.history_title": ("Prüfverlauf und Zahlungen – Rechnung {number}", "Check history and payments – invoice {number}"),
    "signoff.history_empty": ("Noch keine Prüfschritte.", "No check steps yet."),
    "signoff.action.factual_ok": ("sachlich richtig bestätigt", "attested factually correct"),
    "signoff.action.arithmetic_ok": ("rechnerisch richtig bestätigt", "attested arithmetically correct"),
    "signoff.action.withdraw_factual": ("„sachlich richtig“ zurückgezogen", "withdrew “factually correct”"),
    "signoff.action.withdraw_arithmetic": ("„rechnerisch richtig“ zurückgezogen", "withdrew “arithmetically correct”"),
    "signoff.action.dispute": ("beanstandet", "disputed"),
    "signoff.action.resolve": ("Beanstandung aufgehoben", "resolved the dispute"),
    "signoff.action.credit_note": ("Teilgutschrift erstellt", "issued a partial credit note"),
    "signoff.payment_title": ("Zahlung buchen", "Record a payment"),
    "signoff.payment_intro": ("Rechnung {number} über {gross} · bezahlt {paid} · offen {open}. Eine Teilzahlung lässt die "
                              "Rechnung „teilweise bezahlt“.", "Invoice {number} over {gross} · paid {paid} · open {open}. A "
                              "partial payment leaves the invoice “partly paid”."),
    "signoff.f.value_date": ("Wertstellung", "Value date"),
    "signoff.f.amount": ("Betrag", "Amount"),
    "signoff.f.bank_reference": ("Bankreferenz / Verwendungszweck", "Bank reference"),
    "signoff.payment_send": ("Zahlung buchen", "Record payment"),
    "signoff.label.payment": ("Rechnung {number}: Zahlung {amount}", "Invoice {number}: payment {amount}"),
    "signoff.payment_saved": ("Zahlung gebucht.", "Payment recorded."),
    "signoff.more_than_open": ("Mehr als offen ({open}).", "More than is open ({open})."),
    "signoff.credit_title": ("Teilgutschrift zu Pos. {pos}", "Partial credit note for line {pos}"),
    "signoff.credit_intro": ("Gutschrift (XRechnung 381, mit Bezug auf Rechnung {number}) für Pos. {pos} „{name}“, netto "
                             "{net}. Eine Beanstandung der Position ist damit erledigt.",
                             "Credit note (XRechnung 381, referencing invoice {number}) for line {pos} “{name}”, net {net}. "
                             "A dispute of the line is settled by it."),
    "signoff.f.credit_net": ("Gutschrift netto", "Credit, net"),
    "signoff.credit_send": ("Gutschrift erstellen", "Issue credit note"),
    "signoff.label.credit": ("Rechnung {number}: Teilgutschrift {amount}", "Invoice {number}: partial credit {amount}"),
    "signoff.credit_saved": ("Teilgutschrift {number} erstellt.", "Partial credit note {number} issued."),
    "signoff.more_than_line": ("Mehr als die Position ({net}).", "More than the line ({net})."),
    "signoff.positive": ("Größer als 0", "Greater than 0"),
    "signoff.future": ("Liegt in der Zukunft", "Lies in the future"),
    # --- usage: the contract's months, replacing a figure (screens/usage.py, store/usage_import.py)
    "usage.err.outside_term": ("{period} liegt außerhalb der Vertragslaufzeit (meldbar: {first} bis {last}).",
                               "{period} lies outside the contract's term (reportable: {first} to {last})."),
    "usage.err.not_started": ("Der Vertrag hat noch nicht begonnen: noch kein Monat meldbar.",
                              "The contract has not started: no month can be reported yet."),
    "usage.replace.title": ("Gemeldete Fallzahlen ersetzen?", "Replace reported cases?"),
    "usage.replace.intro": ("Für diese Monate sind schon Fallzahlen gemeldet; sie werden ersetzt (alt → neu):",
                            "Cases are already reported for these months; they will be replaced (old → new):"),
    "usage.replace.confirm": ("Ersetzen", "Replace"),
    "usage.replace.line": ("{contract}  {period}: {old} → {new}", "{contract}  {period}: {old} → {new}"),
    "usage.import.replacing": ("davon ersetzt {n} Zeile eine bereits gemeldete Fallzahl (alt → neu):"
                               "|davon ersetzen {n} Zeilen bereits gemeldete Fallzahlen (alt → neu):",
                               "{n} of them replaces a case count already reported (old → new):"
                               "|{n} of them replace case counts already reported (old → new):"),
}
