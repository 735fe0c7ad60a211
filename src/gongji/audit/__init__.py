"""The audit trail (审计日志): every operator action and every unmasked read of personal data,
appended to a hash chain that nobody can rewrite unnoticed.

Each record's hash is SM3 over the previous record's hash and the record itself, so editing,
deleting or reordering any record breaks every link after it; the chain's head is anchored once
a day (``audit_anchors``), so cutting off the tail is seen too. The tables are append-only in
the database, and records are kept (never purged by gongji) for at least the 190 days of
MLPS level 3 (等保三级).

Public face: ``audit.service.log.record`` (in the caller's unit of work, so an action and its
record commit together), ``verify``, ``anchor``, ``search``.
"""
