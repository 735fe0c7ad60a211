"""Enrolment and wallet terms every area reads: the insurance types, an enrolment's status and a
wallet's status (docs/rules.md §3–§4). Codes are the national platform's where it has them.
"""

from __future__ import annotations

from enum import StrEnum

INSUTYPE_EMPLOYEE = "310"


INSUTYPE_RESIDENT = "390"


RECIPIENT_INSUTYPES = frozenset({INSUTYPE_EMPLOYEE, INSUTYPE_RESIDENT})


class EnrolmentStatus(StrEnum):
    NORMAL = "1"
    SUSPENDED = "2"
    TERMINATED = "3"


class WalletStatus(StrEnum):
    OPEN = "open"
    FROZEN = "frozen"
    CLOSED = "closed"
