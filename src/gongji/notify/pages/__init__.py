"""The inbox page and the notification settings form."""
