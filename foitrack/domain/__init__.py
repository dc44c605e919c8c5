"""Pure calculations over plain values: no database, no Flask."""
