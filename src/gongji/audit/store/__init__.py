"""The audit trail's SQL. No decisions."""
