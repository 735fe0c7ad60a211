"""Pure rules and values: money, identity numbers, kinship, policy, grant and settlement rules.

Invariants: imports only the standard library and itself; reads no clock and does no IO, so
every rule can be tested without a database (checked by import-linter in CI).
"""
