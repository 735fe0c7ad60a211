"""Scheduled work: the 06:00 return of unaccepted offers, the year-end rollover, and the monthly
clearing of last month.

Every job is restartable and idempotent. It works in bounded batches, each its own transaction,
and everything it writes carries a deterministic id (a ledger transfer id, a state that only
moves forward), so a job killed half-way and run again finishes the work without doing any of it
twice, and two runs at once do it once.
"""
