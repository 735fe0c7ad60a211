"""SQL of the national interface's own records (uploaded files)."""
