"""SQL of notifications and persons' settings. No decisions."""
