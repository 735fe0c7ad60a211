"""Use cases: one module per use-case family (enrolment, wallets, relationships, grants,
authorizations, settlement, premiums, lifecycle, clearing, reconciliation, risk, audit).

Each command loads what it needs, decides with ``gongji.domain``, and writes through
``gongji.ledger`` and ``gongji.store``, all in one unit of work that rolls back unless committed.
Services never choose HTTP statuses or exit codes; they raise ``GongjiError`` subclasses.
"""
