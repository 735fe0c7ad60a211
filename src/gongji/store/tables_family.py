"""Tables of what a family is told and chooses: the notifications (one row is both the inbox entry
and the SMS outbox entry), each person's notification preferences and standing choices, and the
kinship records an operator withdrew.

Created by migration 0060, which spells the columns out (a migration must not follow later
changes of this module); change a table here only together with a new migration.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from gongji.store.tables import metadata

PSN_NO_LENGTH = 32

notifications = Table(
    "notifications",
    metadata,
    # The id names the business event and the person told (``grant_offered:G…:P…``), so the
    # same event enqueued twice — a retried request, a re-run job — is one row.
    Column("id", String(120), primary_key=True),
    Column("psn_no", String(PSN_NO_LENGTH), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("params", Text, nullable=False),  # JSON: amounts in fen, masked names, no secrets
    Column("created_at_us", BigInteger, nullable=False),
    Column("read_at_us", BigInteger, nullable=True),
    # SMS: pending → sending → sent | failed | skipped | uncertain
    Column("sms_state", String(10), nullable=False),
    Column("sms_attempts", Integer, nullable=False),
    Column("sms_due_at_us", BigInteger, nullable=False),
    Column("sms_claimed_at_us", BigInteger, nullable=True),
    Column("sms_done_at_us", BigInteger, nullable=True),
    Index("ix_notifications_person", "psn_no", "created_at_us"),
    Index("ix_notifications_sms_due", "sms_state", "sms_due_at_us"),
)

person_settings = Table(
    "person_settings",
    metadata,
    Column("psn_no", String(PSN_NO_LENGTH), primary_key=True),
    Column("sms_enabled", Boolean, nullable=False),
    Column("sms_muted_kinds", Text, nullable=False),  # comma-separated notification kinds
    Column("quiet_start", String(5), nullable=False),  # "22:00"; equal ends: no quiet hours
    Column("quiet_end", String(5), nullable=False),
    Column("use_mutual_aid", Boolean, nullable=True),  # 就医时使用家庭共济; NULL: never chosen
    Column("updated_at_us", BigInteger, nullable=False),
)

kinship_withdrawals = Table(
    "kinship_withdrawals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_hash", String(64), nullable=False),
    Column("relative_hash", String(64), nullable=False),
    Column("relationship_id", String(40), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("withdrawn_at_us", BigInteger, nullable=False),
    Index("ix_kinship_withdrawals_pair", "person_hash", "relative_hash"),
)

guardian_consents = Table(
    "guardian_consents",
    metadata,
    # Created by 0100: 亲情账户 — ``holder`` lets ``guardian`` show their e-voucher and read their
    # wallet, within ``relationship_id``; ended by the holder, or when the relationship ends.
    Column("id", String(40), primary_key=True),
    Column("relationship_id", String(40), nullable=False),
    Column("holder", String(PSN_NO_LENGTH), nullable=False),
    Column("guardian", String(PSN_NO_LENGTH), nullable=False),
    Column("granted_at_us", BigInteger, nullable=False),
    Column("ended_at_us", BigInteger, nullable=True),
    Column("end_reason", String(40), nullable=True),
    Index("ix_guardian_consents_holder", "holder", "granted_at_us"),
    Index("ix_guardian_consents_guardian", "guardian", "holder"),
)

FAMILY_TABLES = (notifications, person_settings, kinship_withdrawals, guardian_consents)
