"""efa-tui: terminal client and reference server for a marketplace of digital public-administration services."""

__version__ = "0.1.0"

# Identities of the embedded demo marketplace (token "demo-<identity>"): `efa-tui --as …`.
DEMO_IDENTITIES = ("customer", "customer-2", "customer-nohouse", "provider", "provider-2", "support", "operator")
# Colour themes the app offers: dark, light, and one in the terminal's 16 ANSI colours (`--theme`).
THEMES = ("textual-dark", "textual-light", "ansi-dark")
