"""The people area's public face for other areas' use cases: read a person and their
enrolments, take note of a death or an enrolment change, record an event in their history.

Other areas run these inside their own unit of work (they take its connection), so a grant and
the event that says so commit together. They are the people area's SQL, named here so that no
other area reaches into ``gongji.people.store``.
"""

from __future__ import annotations

from gongji.people.store.people_repo import (
    current_enrolment,
    enrolments_of,
    enrolments_read,
    events_of,
    events_read,
    find_enrolment,
    inheritance_paid,
    insert_enrolment,
    insert_inheritance,
    insert_kinship_withdrawal,
    kinship_recorded,
    latest_events_of,
    person,
    person_by_id_hash,
    person_read,
    persons_by_mobile_hash,
    persons_by_no,
    persons_by_no_read,
    record_event,
    set_death_date,
    update_enrolment,
)

__all__ = [
    "current_enrolment",
    "enrolments_of",
    "enrolments_read",
    "events_of",
    "events_read",
    "find_enrolment",
    "inheritance_paid",
    "insert_enrolment",
    "insert_inheritance",
    "insert_kinship_withdrawal",
    "kinship_recorded",
    "latest_events_of",
    "person",
    "person_by_id_hash",
    "person_read",
    "persons_by_mobile_hash",
    "persons_by_no",
    "persons_by_no_read",
    "record_event",
    "set_death_date",
    "update_enrolment",
]
