"""The national interface's pure pieces: its field names and how a field's text becomes a value."""
