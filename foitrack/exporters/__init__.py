"""Writers that take plain rows and a file-like object (no database, no Flask)."""
