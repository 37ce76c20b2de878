"""The SQLite backend: one process owns a state file (claims cached in memory, group commit)."""
