"""Pure rules of notifications: the kinds, their Chinese texts, quiet hours."""
