"""SQL of risk monitoring: its own tables, and the one bulk read of other areas' rows
(facts_repo.py) that a rule run needs."""
