"""Use cases of risk monitoring: the rule runs, the write-time checks, cases."""
