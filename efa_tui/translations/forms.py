"""Messages every form shares (widgets/form.py, screens/form_screen.py, formatting's input
parsing): id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "form.title": ("Formular", "Form"),
    "form.choose": ("bitte wählen", "please choose"),
    "form.required": ("Pflichtfeld", "Required"),
    "form.declare_first": ("Bitte zuerst bestätigen (Tab bis zum Kästchen, Leertaste).",
                           "Please confirm first (Tab to the box, Space)."),
    "form.line_problem": ("Zeile {n}: {problem}", "Line {n}: {problem}"),
    "form.suggestions": ("Zur Wahl (→ übernimmt beim Tippen): {values}", "To choose (→ takes it as you type): {values}"),
    "form.submit": ("Senden", "Send"),
    "form.cancel": ("Abbrechen", "Cancel"),
    "key.submit": ("Senden", "Send"),
    # The key that confirms a step that cannot be taken back (revoke a token, disable a user, replace
    # reported figures): ja / yes — never the key that opened or sent it, so a doubled key does nothing.
    "key.yes": ("j", "y"),
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
    "form.fix_fields": ("Bitte {n} Feld korrigieren.|Bitte {n} Felder korrigieren.",
                        "Please correct {n} field.|Please correct {n} fields."),
    "form.queued": ("Offline: wird gesendet, sobald der Server erreichbar ist.",
                    "Offline: will be sent when the server is reachable."),
    "form.refused": ("Vom Server abgelehnt: {detail}", "Refused by the server: {detail}"),
    "form.conflict": ("Jemand anderes hat den Datensatz zuvor geändert. Bitte neu laden.",
                      "Someone else changed this record first. Please reload."),
    # the edit conflict (412) of every If-Match form (screens/edit_conflict.py)
    "conflict.title": ("Bearbeitungskonflikt", "Edit conflict"),
    "conflict.explain": ("Inzwischen hat jemand eine neuere Fassung gespeichert. {n} Feld haben beide geändert: "
                         "bitte je Feld wählen. Markiert: abweichende Wörter.|"
                         "Inzwischen hat jemand eine neuere Fassung gespeichert. {n} Felder haben beide geändert: "
                         "bitte je Feld wählen. Markiert: abweichende Wörter.",
                         "Someone saved a newer version meanwhile. {n} field was changed by both: please choose "
                         "per field. Marked: the words that differ.|"
                         "Someone saved a newer version meanwhile. {n} fields were changed by both: please choose "
                         "per field. Marked: the words that differ."),
    "conflict.kept": ("Nur dort geändert, übernommen: {fields}", "Changed only there, taken over: {fields}"),
    "conflict.mine": ("Ihre Fassung", "Your version"),
    "conflict.theirs": ("Gespeicherte Fassung", "Saved version"),
    "conflict.chosen": ("← gewählt", "← chosen"),
    "conflict.edited": ("eigene Fassung (esc: fertig)", "your own wording (esc: done)"),
    "conflict.open": ("noch zu wählen: 1, 2 oder 3", "still to choose: 1, 2 or 3"),
    "conflict.empty": ("(leer)", "(empty)"),
    "conflict.key.mine": ("Meine", "Mine"),
    "conflict.key.theirs": ("Gespeicherte", "Saved"),
    "conflict.key.edit": ("Ändern", "Edit"),
    "conflict.key.save": ("Speichern", "Save"),
    "conflict.choose_all": ("Bitte für {n} Feld wählen: 1, 2 oder 3.|Bitte für {n} Felder wählen: 1, 2 oder 3.",
                            "Please choose for {n} field: 1, 2 or 3.|Please choose for {n} fields: 1, 2 or 3."),
    "conflict.merged": ("Inzwischen von jemand anderem gespeichert; übernommen ohne Konflikt: {fields}. "
                        "Ihre Änderungen werden darauf gespeichert.",
                        "Someone else saved meanwhile; taken over without a clash: {fields}. "
                        "Your changes are saved on top."),
    "conflict.unloadable": ("Die aktuelle Fassung konnte nicht geladen werden: {detail}. Ihre Eingaben sind erhalten.",
                            "Could not load the current version: {detail}. Your input is kept."),
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
    "outbox.col.owner": ("Von", "By"),
    "outbox.owner.this": ("diese Anmeldung", "this sign-in"),
    "outbox.owner.legacy": ("unbekannt (ältere Version)", "unknown (older version)"),
    "outbox.others_waiting": ("1 Änderung einer anderen Anmeldung wartet hier auf deren nächsten Start (ihr Inhalt "
                              "ist nur für sie sichtbar).|{n} Änderungen einer anderen Anmeldung warten hier auf deren "
                              "nächsten Start (ihr Inhalt ist nur für sie sichtbar).",
                              "1 change of another sign-in waits here for its next start (only it can see what it "
                              "is).|{n} changes of other sign-ins wait here for their next start (only they can see "
                              "what they are)."),
    "outbox.legacy": ("Vor dem Update gespeichert, Absender unbekannt: [s] sendet es als {me}, [d] verwirft es.",
                      "Saved before the update, sender unknown: [s] sends it as {me}, [d] discards it."),
    "key.resend": ("Erneut senden", "Send again"),
    "key.edit": ("Bearbeiten", "Edit"),
    "key.discard": ("Verwerfen", "Discard"),
    "key.outbox": ("Ausstehend", "Pending"),
    "cmd.outbox": ("Ausstehende Änderungen anzeigen", "Show pending changes"),
}
