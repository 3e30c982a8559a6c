"""Messages every form shares (widgets/form.py, screens/form_screen.py, formatting's input
parsing): id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "form.title": ("Formular", "Form"),
    "form.choose": ("bitte wählen", "please choose"),
    "form.required": ("Pflichtfeld", "Required"),
    "form.submit": ("Senden", "Send"),
    "form.cancel": ("Abbrechen", "Cancel"),
    "key.submit": ("Senden", "Send"),
    "form.draft_restored": ("Entwurf wiederhergestellt.", "Draft restored."),
    # leaving a form with changes (screens/form_screen.py)
    "form.leave.question": ("Formular verlassen?", "Leave the form?"),
    "form.leave.detail": ("Ihre Eingaben sind noch nicht gesendet. Verwerfen, oder als Entwurf behalten "
                          "(er ist wieder da, wenn Sie das Formular das nächste Mal öffnen)?",
                          "Your input has not been sent. Discard it, or keep it as a draft (it is back "
                          "the next time you open this form)?"),
    "form.leave.discard": ("Verwerfen", "Discard"),
    "form.leave.discard_key": ("v", "d"),
    "form.leave.keep_key": ("b", "k"),
    "form.leave.keep": ("Behalten", "Keep"),
    "form.leave.stay": ("Weiter bearbeiten", "Go on editing"),
    "form.discarded": ("Eingaben verworfen.", "Input discarded."),
    "form.fix_fields": ("Bitte {n} Feld(er) korrigieren.", "Please correct {n} field(s)."),
    "form.queued": ("Offline: wird gesendet, sobald der Server erreichbar ist.",
                    "Offline: will be sent when the server is reachable."),
    "form.refused": ("Vom Server abgelehnt: {detail}", "Refused by the server: {detail}"),
    "form.conflict": ("Jemand anderes hat den Datensatz zuvor geändert. Bitte neu laden.",
                      "Someone else changed this record first. Please reload."),
    "input.money": ("Betrag wie {example} eingeben", "Enter an amount like {example}"),
    "input.negative": ("Darf nicht negativ sein", "Must not be negative"),
    "input.cents": ("Höchstens zwei Nachkommastellen (Cent)", "At most two decimals (cents)"),
    "input.vat": ("Steuersatz zwischen 0 und 100", "A rate between 0 and 100"),
    "input.day": ("Datum wie {example} eingeben", "Enter a date like {example}"),
    "input.count": ("Ganze Zahl eingeben", "Enter a whole number"),
    "input.range": ("Zwischen {low} und {high}", "Between {low} and {high}"),
    # the outbox screen (screens/outbox.py)
    "outbox.title": ("Ausstehende Änderungen", "Pending changes"),
    "outbox.intro": ("Änderungen, die der Server noch nicht angenommen hat. Abgelehnte: [s] erneut senden, "
                     "[e] im Formular bearbeiten, [d] verwerfen.",
                     "Changes the server has not accepted yet. Refused ones: [s] send again, [e] edit in the form, "
                     "[d] discard."),
    "outbox.col.at": ("Erfasst", "Recorded"),
    "outbox.col.what": ("Änderung", "Change"),
    "outbox.col.attempts": ("Versuche", "Attempts"),
    "outbox.empty": ("Nichts ausstehend – alles ist beim Server.", "Nothing pending – the server has everything."),
    "outbox.state.pending": ("wartet auf Versand", "waiting to be sent"),
    "outbox.state.needs_attention": ("abgelehnt", "refused"),
    "outbox.state.conflict": ("Konflikt", "conflict"),
    "outbox.state.done": ("angenommen", "accepted"),
    "outbox.state.discarded": ("verworfen", "discarded"),
    "outbox.discarded": ("Verworfen: {label}", "Discarded: {label}"),
    "key.resend": ("Erneut senden", "Send again"),
    "key.edit": ("Bearbeiten", "Edit"),
    "key.discard": ("Verwerfen", "Discard"),
    "key.outbox": ("Ausstehend", "Pending"),
    "cmd.outbox": ("Ausstehende Änderungen anzeigen", "Show pending changes"),
}
