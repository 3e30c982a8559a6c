"""Leitweg-ID (XRechnung buyer reference, BT-10).

Form: coarse part of 2–12 digits, optional fine part of up to 30 letters/digits, two check
digits, joined by hyphens (``04011000-1234512345-06``, ``992-90009-96``). The check digits are
ISO 7064 MOD 97-10 over coarse+fine without hyphens, letters A=10 … Z=35: the whole number
(with the check digits appended) mod 97 must equal 1. No library checks this, so it lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORM = re.compile(r"^(\d{2,12})(?:-([0-9A-Za-z]{1,30}))?-(\d{2})$")


@dataclass(frozen=True)
class LeitwegCheck:
    ok: bool
    reason: str = ""  # German, for the user; empty when ok
    reason_en: str = ""


def _as_digits(text: str) -> str:
    # ISO 7064 maps letters to two-digit numbers: A=10 … Z=35.
    return "".join(str(int(c, 36)) for c in text.upper())


def check_digits(coarse: str, fine: str = "") -> str:
    """The two check digits for a coarse and optional fine part."""
    number = int(_as_digits(coarse + fine) + "00")
    return f"{98 - number % 97:02d}"


def make_leitweg_id(coarse: str, fine: str = "") -> str:
    """A valid Leitweg-ID for the given parts (used for demo data and tests)."""
    parts = [coarse] + ([fine] if fine else []) + [check_digits(coarse, fine)]
    return "-".join(parts)


def check_leitweg_id(value: str) -> LeitwegCheck:
    """Validate form and MOD 97-10 check digits; the reason says what is wrong."""
    text = (value or "").strip()
    if not text:
        return LeitwegCheck(False, "Leitweg-ID fehlt.", "Leitweg-ID is missing.")
    m = _FORM.match(text)
    if not m:
        return LeitwegCheck(
            False,
            "Form: Grobadressierung (2–12 Ziffern), optional Feinadressierung (bis 30 Buchstaben/Ziffern), "
            "2 Prüfziffern, getrennt durch Bindestriche, z. B. 04011000-1234512345-06.",
            "Form: coarse part (2–12 digits), optional fine part (up to 30 letters/digits), "
            "2 check digits, joined by hyphens, e.g. 04011000-1234512345-06.",
        )
    coarse, fine, digits = m.group(1), m.group(2) or "", m.group(3)
    if int(_as_digits(coarse + fine + digits)) % 97 != 1:
        expected = check_digits(coarse, fine)
        return LeitwegCheck(
            False,
            f"Prüfziffern {digits} stimmen nicht (MOD 97-10), erwartet {expected}.",
            f"Check digits {digits} are wrong (MOD 97-10), expected {expected}.",
        )
    return LeitwegCheck(True)


def has_leitweg_form(value: str) -> bool:
    """True when the text is built like a Leitweg-ID (its check digits may still be wrong)."""
    return bool(_FORM.match((value or "").strip()))


MAX_LEITWEG_IDS = 20  # an organisation's list: one per invoicing office, not a dump


def check_leitweg_ids(values: list[str]) -> list[tuple[int, LeitwegCheck]]:
    """Each bad item of an organisation's list of Leitweg-IDs, with its index: an empty one, a
    malformed one, wrong check digits, or one the list already has (compared as written,
    upper-cased: the fine part's letters are case-free for the check digits)."""
    bad: list[tuple[int, LeitwegCheck]] = []
    seen: set[str] = set()
    for index, value in enumerate(values):
        text = (value or "").strip()
        check = check_leitweg_id(text)
        if not check.ok:
            bad.append((index, check))
        elif text.upper() in seen:
            bad.append((index, LeitwegCheck(False, "Diese Leitweg-ID steht schon in der Liste.",
                                            "This Leitweg-ID is already in the list.")))
        seen.add(text.upper())
    return bad
