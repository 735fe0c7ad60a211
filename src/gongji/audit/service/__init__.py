"""Recording, verifying, anchoring and searching the audit trail."""
