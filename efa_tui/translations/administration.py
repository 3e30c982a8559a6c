"""Messages of administration: `efa-tui login` / `logout` and the Verwaltung area:
id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "login.prompt": ("Token (wird nicht angezeigt): ", "Token (not shown): "),
    "login.no_server": ("efa-tui login: welcher Marktplatz? --server URL angeben (oder --profile NAME eines "
                        "Profils mit server_url)",
                        "efa-tui login: which marketplace? Give --server URL (or --profile NAME of a profile "
                        "with server_url)"),
    "login.no_token": ("efa-tui login: kein Token eingegeben", "efa-tui login: no token given"),
    "login.refused": ("efa-tui login: der Server lehnt das Token ab: {detail}",
                      "efa-tui login: the server refuses the token: {detail}"),
    "login.unreachable": ("efa-tui login: {url} ist nicht erreichbar ({reason})",
                          "efa-tui login: {url} cannot be reached ({reason})"),
    "login.done": ("Angemeldet als {name} ({role}, {org}) bei {url}.\nProfil „{profile}“ in {config}{default}; "
                   "Token {where}.",
                   "Logged in as {name} ({role}, {org}) at {url}.\nProfile '{profile}' in {config}{default}; "
                   "token {where}."),
    "login.default": (", jetzt das Standardprofil", ", now the default profile"),
    "login.where.keyring": ("im Schlüsselbund des Systems", "in the system keyring"),
    "login.where.file": ("in einer nur für Sie lesbaren Datei (0600)", "in a file only you can read (0600)"),
    "logout.done": ("Token des Profils „{profile}“ entfernt.", "Token of profile '{profile}' removed."),
    "logout.none": ("Für das Profil „{profile}“ war kein Token gespeichert.",
                    "No token was stored for profile '{profile}'."),
}
