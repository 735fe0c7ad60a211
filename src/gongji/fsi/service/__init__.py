"""Use cases of the national interface that are its own (uploaded files)."""
