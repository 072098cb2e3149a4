"""Parts of the SQLite order journal (``adapters.sqlite_journal``): schema, rows, state rules."""
