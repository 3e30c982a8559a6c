"""Pure domain rules shared by server and client: no I/O, no Textual, no HTTP."""
