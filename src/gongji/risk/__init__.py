"""Risk monitoring of mutual aid: rules over grants, relationships and settlements, alerts with
their evidence, scores, and the risk officer's cases (docs/rules.md §12)."""
