"""This area's SQL over the shared schema. No decisions."""
