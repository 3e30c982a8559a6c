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
    "form.fix_fields": ("Bitte {n} Feld(er) korrigieren.", "Please correct {n} field(s)."),
    "form.queued": ("Offline: wird gesendet, sobald der Server erreichbar ist.",
                    "Offline: will be sent when the server is reachable."),
    "form.refused": ("Vom Server abgelehnt: {detail}", "Refused by the server: {detail}"),
    "form.conflict": ("Jemand anderes hat den Datensatz zuvor geändert. Bitte neu laden.",
                      "Someone else changed this record first. Please reload."),
    "input.money": ("Betrag wie {example} eingeben", "Enter an amount like {example}"),
    "input.negative": ("Darf nicht negativ sein", "Must not be negative"),
    "input.cents": ("Höchstens zwei Nachkommastellen (Cent)", "At most two decimals (cents)"),
    "input.day": ("Datum wie {example} eingeben", "Enter a date like {example}"),
    "input.count": ("Ganze Zahl eingeben", "Enter a whole number"),
    "input.range": ("Zwischen {low} und {high}", "Between {low} and {high}"),
}
