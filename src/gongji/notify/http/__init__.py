"""REST routes of the inbox and the settings."""
