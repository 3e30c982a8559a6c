"""Binding descriptions are message ids (``"key.help"``), shown in the user's language.

Textual copies a class's bindings into every node, so each screen translates its own copy when
it is created and again when the language changes.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from .. import i18n


def localize_bindings(node: DOMNode) -> None:
    ids: dict[tuple[str, str], str] | None = getattr(node, "_efa_binding_ids", None)
    if ids is None:
        # The first time, the descriptions are still the message ids: remember them.
        ids = {(key, b.action): b.description for key, bs in node._bindings.key_to_bindings.items() for b in bs}
        node._efa_binding_ids = ids  # type: ignore[attr-defined]
    # A screen may name an action its own way (a form's submit key says what its button says:
    # "Speichern", "Interesse bekunden" — not a generic "Senden" beside a "Speichern" button).
    own = node.binding_labels() if hasattr(node, "binding_labels") else {}
    node._bindings.key_to_bindings = {
        key: [replace(b, description=own.get(b.action) or (i18n.t(ids.get((key, b.action), ""))
                                                          if ids.get((key, b.action)) else ""))
              for b in bs]
        for key, bs in node._bindings.key_to_bindings.items()
    }
