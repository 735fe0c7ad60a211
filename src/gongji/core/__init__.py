"""Values and rules every area shares: money in fen, identity numbers, regions, masks, errors,
policy values and the policy itself, enrolment terms, SM3, the clock.

Invariants: imports only the standard library and itself; does no IO, so every rule built on it
can be tested without a database (import-linter keeps it so).
"""
