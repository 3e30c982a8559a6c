"""Messages of the live client: the status line's mode and what is announced (store/live.py)."""

MESSAGES = {
    "status.live": ("live", "live"),
    # The server ended the event stream for good (store/live.py): why, in the status line.
    "status.closed": ("Verbindung beendet: {reason}", "Connection ended: {reason}"),
    "status.closed.token-revoked": ("Zugang widerrufen", "access revoked"),
    "status.closed.token-expired": ("Zugang abgelaufen", "access expired"),
    "status.closed.user-disabled": ("Benutzer gesperrt", "user disabled"),
    "status.closed.unauthorized": ("Zugang nicht mehr gültig", "access no longer valid"),
    "status.news": ("{n} neu – [w] ansehen", "{n} new – [w] to see"),
    "key.news": ("Neues", "News"),
    "cmd.news": ("Neues ansehen (wartet auf Sie)", "See what is new (waiting for you)"),
    "news.interest": ("Neue Interessenbekundung #{id}: {title} – {who}", "New interest #{id}: {title} – {who}"),
    "news.order": ("Verbindliche Bestellung #{id}: {title} – {who}, bitte aktivieren",
                   "Binding order #{id}: {title} – {who}, please activate"),
    "news.proposal": ("Entgeltvorschlag zu #{id}: {title} – {who}, bitte entscheiden",
                      "Fee proposal for #{id}: {title} – {who}, your decision"),
    "news.contract": ("Vertrag aktiviert #{id}: {title} – {who}", "Contract activated #{id}: {title} – {who}"),
    "news.invoice": ("Rechnung {number} gestellt: {amount}", "Invoice {number} issued: {amount}"),
    "news.none": ("Nichts Neues", "Nothing new"),
    "news.gone": ("#{id} ist nicht (mehr) im lokalen Bestand", "#{id} is not in the local data (any more)"),
    # Reaching the server at the start (cli.py, api/discovery.py).
    "server.not_marketplace": ("Unter {url} antwortet keine Marktplatz-API. Versucht:",
                               "No marketplace API answers at {url}. Tried:"),
    "server.hint": ("Bitte die Adresse der API angeben, etwa https://marktplatz.example.org/api/v1 (--server).",
                    "Please give the API's address, e.g. https://marketplace.example.org/api/v1 (--server)."),
}
