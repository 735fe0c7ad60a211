"""Results rendered as files people and other systems read."""
