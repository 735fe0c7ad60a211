"""Synthetic population and workload, for benchmarks and policy studies.

Everything here drives the real code paths (ledger, store) with made-up but plausible data; it
never reaches into their internals, so a figure measured here is a figure production can get.
Runs start from fresh state (a temporary file, a throw-away schema) and leave nothing behind.
"""
