"""What every area's use cases are handed: the ``Context`` (engine, clock, policy, ledger, PII
cipher, SMS gateway), the chart of accounts, idempotent writes, ids, generic refusals (not
found, forbidden) and the reference data loaded at start.
"""
