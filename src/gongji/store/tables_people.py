"""Tables of persons and their mutual aid: enrolments, wallets, relationships, kinship registry
records, grants, authorizations, lifecycle events, inheritance payouts.

Personal data (ID number, name, mobile) is stored encrypted (``*_enc``), with a keyed hash for
look-up (``*_hash``) and a masked copy for display (``*_masked``); see gongji.kernel.pii.
Nothing stored in clear may rebuild an ID number: the mask keeps the region and the last four
digits, so the birth date (the eight digits it hides) is read from the encrypted number only
(migration 0021 dropped the clear ``birth_date``).
Created by migration 0002 (which creates these definitions as they stand; change a table only
through a new migration, after freezing the old definition into the creating migration).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from gongji.store.tables import metadata

PSN_NO_LENGTH = 32
ID_LENGTH = 40

regions = Table(
    "regions",
    metadata,
    Column("code", String(6), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(10), nullable=False),
)

persons = Table(
    "persons",
    metadata,
    Column("psn_no", String(PSN_NO_LENGTH), primary_key=True),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("id_enc", Text, nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("name_hash", String(64), nullable=False),
    Column("name_enc", Text, nullable=False),
    Column("name_masked", String(40), nullable=False),
    Column("mobile_hash", String(64), nullable=True, index=True),
    Column("mobile_enc", Text, nullable=True),
    Column("mobile_masked", String(20), nullable=True),
    Column("sex", String(1), nullable=False),
    Column("death_date", String(10), nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("psn_no", String(PSN_NO_LENGTH), nullable=False, index=True),
    Column("insutype", String(3), nullable=False),
    Column("region", String(6), nullable=False),
    Column("status", String(1), nullable=False),
    Column("employment", String(10), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=True),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("psn_no", "insutype", "region", "start_date", name="uq_enrolments_period"),
)

wallets = Table(
    "wallets",
    metadata,
    Column("psn_no", String(PSN_NO_LENGTH), primary_key=True),
    Column("status", String(8), nullable=False),
    Column("place_of_use", String(6), nullable=False),
    Column("opened_by", String(PSN_NO_LENGTH), nullable=False),
    Column("opened_at_us", BigInteger, nullable=False),
    Column("status_reason", String(200), nullable=True),
    Column("updated_at_us", BigInteger, nullable=False),
)

relationships = Table(
    "relationships",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("proposer", String(PSN_NO_LENGTH), nullable=False, index=True),
    Column("relative", String(PSN_NO_LENGTH), nullable=False, index=True),
    # What the relative is to the proposer: "parent" = the relative is the proposer's parent.
    Column("kind", String(24), nullable=False),
    Column("status", String(16), nullable=False),
    Column("verification", String(10), nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    Column("end_reason", String(200), nullable=True),
)

kinship_records = Table(
    "kinship_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_hash", String(64), nullable=False),
    Column("relative_hash", String(64), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("source", String(64), nullable=False),
    Column("imported_at_us", BigInteger, nullable=False),
    UniqueConstraint("person_hash", "relative_hash", "kind", name="uq_kinship_records"),
)

grants = Table(
    "grants",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("relationship_id", String(ID_LENGTH), nullable=False),
    Column("contributor", String(PSN_NO_LENGTH), nullable=False),
    Column("recipient", String(PSN_NO_LENGTH), nullable=False),
    Column("contributor_region", String(6), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("from_current_fen", BigInteger, nullable=False),
    Column("from_earlier_fen", BigInteger, nullable=False),
    Column("state", String(10), nullable=False),
    Column("business_date", String(10), nullable=False),
    Column("offered_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=False),
    Column("accepted_at_us", BigInteger, nullable=True),
    Column("closed_at_us", BigInteger, nullable=True),
    Column("close_reason", String(40), nullable=True),
    Index("ix_grants_contributor_day", "contributor", "business_date"),
    Index("ix_grants_recipient_state", "recipient", "state"),
    Index("ix_grants_state_expiry", "state", "expires_at_us"),
)

authorizations = Table(
    "authorizations",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("relationship_id", String(ID_LENGTH), nullable=False),
    Column("contributor", String(PSN_NO_LENGTH), nullable=False, index=True),
    Column("recipient", String(PSN_NO_LENGTH), nullable=False, index=True),
    Column("quota_fen", BigInteger, nullable=True),
    Column("used_fen", BigInteger, nullable=False),
    Column("binding_seq", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("ended_at_us", BigInteger, nullable=True),
)

person_events = Table(
    "person_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("psn_no", String(PSN_NO_LENGTH), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("detail", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    # A person's moves without their other events (two a settlement): risk's screen reads them.
    Index(
        "ix_person_events_moved",
        "psn_no",
        "at_us",
        sqlite_where=text("kind = 'moved'"),
        postgresql_where=text("kind = 'moved'"),
    ),
)

inheritance_payouts = Table(
    "inheritance_payouts",
    metadata,
    Column("psn_no", String(PSN_NO_LENGTH), primary_key=True),
    Column("death_certificate_no", String(64), nullable=False),
    Column("heirs", Text, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("operator", String(64), nullable=False),
    Column("paid_at_us", BigInteger, nullable=False),
)

PEOPLE_TABLES = (
    regions,
    persons,
    enrolments,
    wallets,
    relationships,
    kinship_records,
    grants,
    authorizations,
    person_events,
    inheritance_payouts,
)

person_lookups = Table(
    "person_lookups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(20), nullable=False),
    Column("psn_no", String(PSN_NO_LENGTH), nullable=True),
    Column("cert_type", String(8), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("msgid", String(40), nullable=False),
    Column("operator", String(60), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Index("ix_person_lookups_psn", "psn_no", "at_us"),
    Index("ix_person_lookups_institution", "institution_code", "at_us"),
)
"""Created by 0011: every 1101 look-up (who, whom, when, why, outcome), for the audit."""

# What the back office's statistics and find read by (migration 0040).
Index("ix_grants_business_date", grants.c.business_date)
Index("ix_wallets_opened_at", wallets.c.opened_at_us)
Index("ix_relationships_created_at", relationships.c.created_at_us)
Index("ix_persons_name_hash", persons.c.name_hash)
