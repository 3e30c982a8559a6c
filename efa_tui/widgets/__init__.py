"""Reusable widgets of the efa-tui terminal client."""
