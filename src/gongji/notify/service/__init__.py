"""Use cases: enqueue, read the inbox, change settings, deliver SMS."""
