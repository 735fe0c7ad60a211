"""The guard rails of the front doors: how often anonymous and institutional callers may ask,
when an operator's sign-in is locked, how far ahead an enrolment change may be dated.

These are deployment settings, not insurance policy: they protect the server and the register,
they do not change anyone's entitlement, so they live beside the settings (``config.py`` reads
overrides from the environment) rather than in the policy book that bureaus version by date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SQLITE_SETTLEMENT_THREADS: Final = 8
"""``Limits.settlement_threads`` on SQLite. Its settlements share commits (store/writers.py): a
settlement that ends while others wait for the writer's turn leaves the transaction open for
them, and the last commits for all. The threads bound how many wait at once, so they bound the
group: 8 threads made groups of 6.7 settlements on average where 4 made groups of 3.6, half the
commits (each a write of the log's pages and a wait for the disk), and a settlement over HTTP
cost about 8 % less of the server's CPU (docs/benchmarks.md, issue 20, step 18). PostgreSQL
shares commits across connections by itself and gained nothing from more threads."""


@dataclass(frozen=True, slots=True)
class Limits:
    fsi_lookups_per_minute: int = 60
    """1101 person look-ups per institution per minute: a counter serves one patient at a time;
    sixty a minute is a busy hospital's peak, far below what harvesting the register needs."""
    fsi_identifications_per_minute: int = 300
    """Patients identified by a presented credential per institution per minute, one budget
    over every door: the national interface's registrations and settlements (2201, 2401,
    2101–2102, inline 2206/2207, 2303/2304), REST quotes and settlements, the desk. Each patient
    takes two or three identifications, so five a second serves a large hospital's every counter
    while keeping card-number-and-name guessing through settlements as slow as through 1101."""

    otp_sends_per_address_per_minute: int = 10
    """One-time codes requested from one client address per minute, over every number."""

    logins_per_address_per_minute: int = 20
    """Sign-in attempts (persons and operators) from one client address per minute."""

    logins_per_account_per_minute: int = 10
    """Sign-in attempts naming one mobile number or one operator per minute, from anywhere."""

    password_checks_per_second: int = 1
    """argon2 verifications per second in all, whoever asks: each costs a quarter of a second
    on every core, so a guessing run spread over many addresses and names (which no per-address
    or per-name count sees) could otherwise keep the whole machine busy. Operators are few;
    one sign-in a second is more than a bureau's morning peak."""

    operator_failures_before_lockout: int = 5
    """Wrong operator sign-ins in a row after which the name is locked."""

    operator_lockout_first_s: int = 60
    """The first lockout; each further wrong attempt doubles it, up to a day."""

    operator_lockout_max_s: int = 86_400

    payment_password_failures_before_lockout: int = 5
    """Wrong payment passwords in a row after which a person's payments are locked (a reset by
    SMS code and ID number, or the wait, unlocks them)."""

    payment_password_lockout_first_s: int = 300
    """The first payment-password lockout; each further wrong attempt doubles it, up to a day."""

    payment_password_lockout_max_s: int = 86_400

    payment_password_checks_per_second: int = 6
    """argon2 work for payment passwords (set, check, reset) per second in all: its own budget
    beside operators' sign-ins, since payments come from the whole insured population while
    operators are few. Each check holds a core a quarter of a second, so six a second is what
    two cores can give without starving settlements; a person's guesses are stopped far sooner
    by the lockout, and only a signed-in person reaches the check at all."""

    door_requests_per_address_per_minute: int = 120
    """Requests to the anonymous doors (sign-in, codes, unauthenticated ledger check) from one
    client address per minute, refused before the application reads them (api/doors.py)."""

    door_requests_per_address_per_second: int = 1
    """The same per second: a minute's allowance must not arrive as one burst, and no one
    signing in by hand sends two requests to these doors within a second."""

    door_requests_in_flight: int = 4
    """Anonymous-door requests worked on at once, from everyone: the worker threads they may
    hold, so that a flood cannot take the threads settlements need."""

    settlement_threads: int = 4
    """Signed settlements worked on at once in one server process on PostgreSQL, and as many
    national-interface messages (each in threads of its own): the worker threads they may hold;
    the others wait their turn in the event loop, holding none. Python runs one thread at a
    time, so a few are enough to keep it busy while others wait for the database, and more only
    take turns: 16 at once cost a settlement more CPU, and its 95th percentile was 110–120 ms
    against 48–61 ms with 4; 8 settled as many, within the noise, and cost the database a tenth
    more CPU (docs/benchmarks.md). More cores call for more server processes (``gongji serve
    --workers``), not more threads. On SQLite the default is :data:`SQLITE_SETTLEMENT_THREADS`
    (``config.py`` chooses by the database; ``GONGJI_SETTLEMENT_THREADS`` sets both)."""

    enrolment_change_horizon_days: int = 366
    """How far after today a termination or move may be dated: a year's notice at most; a date
    beyond it is a typing mistake, not a plan."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {name} must be a whole number of at least 1")
