"""Translation catalogs by area, merged into one table by ``efa_tui.i18n`` (the one translation
layer). Each module holds ``MESSAGES = {id: (Deutsch, English)}``; ids are unique across them."""
