"""efa-tui: terminal client and reference server for a marketplace of digital public-administration services."""

__version__ = "0.1.0"
