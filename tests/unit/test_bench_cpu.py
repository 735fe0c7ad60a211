"""CPU accounting of the benches (sim/cpu.py, sim/settle_measure.py): readings, per-request
figures and when the load generator counts as saturated, from fake readings."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from gongji.sim.cpu import (
    ClientUsage,
    MachineTimes,
    Reading,
    WindowCost,
    WindowReadings,
    busy_share,
    named_cpu_s,
    parse_machine_times,
    per_request_ms,
    process_cpu_s,
    stat_cpu_s,
)
from gongji.sim.settle_load import Outcome, Tally
from gongji.sim.settle_measure import Measured, Snapshot, settle_row

# utime 250 and stime 50 ticks; the command name holds spaces and a parenthesis
STAT = "4242 (uvicorn (w) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 100 0 0"


def test_cpu_seconds_are_user_plus_system_counted_from_the_last_parenthesis() -> None:
    assert stat_cpu_s(STAT, ticks_per_s=100) == pytest.approx(3.0)


def _stat(pid: int, name: str, utime: int, stime: int, cutime: int, cstime: int) -> str:
    times = f"{utime} {stime} {cutime} {cstime}"
    return f"{pid} ({name}) S 1 {pid} {pid} 0 -1 4194560 900 0 0 0 {times} 20 0 9 0"


def test_a_database_servers_cpu_counts_every_process_of_its_name_and_their_ended_children() -> None:
    """PostgreSQL's postmaster and its backends are all ``postgres``; a backend that ended is
    in the postmaster's children's time (``cutime``, ``cstime``), so it still counts."""
    stats = [
        _stat(10, "postgres", 100, 20, 300, 80),  # the postmaster, with ended backends
        _stat(11, "postgres", 250, 50, 0, 0),  # a backend
        _stat(12, "python3", 900, 900, 0, 0),
        _stat(13, "postgres: x", 900, 900, 0, 0),  # another command's name
    ]
    assert named_cpu_s(stats, "postgres", ticks_per_s=100) == pytest.approx(8.0)
    assert named_cpu_s(stats[2:], "postgres", ticks_per_s=100) is None  # none runs here
    assert stat_cpu_s(stats[0], ticks_per_s=100) == pytest.approx(1.2)  # children not asked


def test_a_row_divides_the_database_servers_cpu_by_the_answered_requests() -> None:
    edges = (
        Snapshot(0.0, 0, 0.0, None, database_cpu_s=40.0),
        Snapshot(1.0, 400, 0.0, None, database_cpu_s=41.25),
    )
    measured = Measured(_tally(100, 0), 50.0, edges, None)
    row = settle_row(("service", "max", "in-process", None), 4, measured)
    assert row.db_cpu_ms_per_request == pytest.approx(12.5)
    unread = (Snapshot(0.0, 0, 0.0, None), Snapshot(1.0, 0, 0.0, None))  # SQLite: no server
    row = settle_row(("service", "max", "in-process", None), 4, replace(measured, edges=unread))
    assert row.db_cpu_ms_per_request is None


def test_this_process_cpu_grows_while_it_works_and_a_gone_process_reads_none() -> None:
    import os

    before = process_cpu_s(os.getpid())
    assert before is not None
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    after = process_cpu_s(os.getpid())
    assert after is not None and after > before
    assert process_cpu_s(2**22 + 12345) is None


def test_machine_busy_share_leaves_out_idle_and_iowait() -> None:
    before = parse_machine_times("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n")
    after = parse_machine_times("cpu  250 0 100 900 50 0 0 0 0 0\n")
    assert before == MachineTimes(busy=150, total=1000)
    assert busy_share(before, after) == pytest.approx(200 / 300)
    assert busy_share(None, after) is None
    assert busy_share(after, after) is None


@pytest.mark.parametrize(
    ("cpu_s", "cores", "share", "saturated"),
    [
        ((9.5, 9.4), 2, 0.945, True),  # both clients flat out: they were the limit
        ((4.0, 4.0), 2, 0.40, False),  # room to spare: the row measured the server
        ((9.2, 1.0), 2, 0.51, True),  # one client at its core's limit holds its share back
        ((4.6, 4.6), 1, 0.92, True),  # two processes on one core: one core is the capacity
        ((8.9, 0.0), 4, 0.445, False),  # below 90 % of one core
    ],
)
def test_clients_are_saturated_at_90_percent_of_the_cores_they_could_use(
    cpu_s: tuple[float, ...], cores: int, share: float, saturated: bool
) -> None:
    usage = ClientUsage(processes=len(cpu_s), cpu_s=cpu_s, seconds=10.0, cores=cores)
    assert usage.share == pytest.approx(share)
    assert usage.saturated is saturated
    assert usage.total_s == pytest.approx(sum(cpu_s))


def test_per_request_cpu_needs_a_reading_and_an_answer() -> None:
    assert per_request_ms(0.5, 1_000) == pytest.approx(0.5)
    assert per_request_ms(None, 1_000) is None
    assert per_request_ms(0.5, 0) is None


def test_window_readings_are_taken_at_both_edges() -> None:
    start = time.monotonic() + 0.05
    readings = WindowReadings(time.monotonic, start, start + 0.1)
    first, second = readings.result()
    assert start <= first < start + 0.04
    assert start + 0.1 <= second < start + 0.14


def test_window_cost_sums_slices() -> None:
    cost = WindowCost()
    cost.add(Reading(1.0, 10, MachineTimes(0, 100)), Reading(1.5, 60, MachineTimes(50, 200)), 10)
    cost.add(Reading(2.0, 60, None), Reading(2.3, 90, None), 5)
    assert cost.cpu_ms_each == pytest.approx(800 / 15)
    assert cost.trips_each == pytest.approx(80 / 15)
    assert cost.machine_busy == pytest.approx(0.5)
    assert WindowCost().cpu_ms_each is None and WindowCost().trips_each is None


def _tally(successes: int, refused: int) -> Tally:
    tally = Tally()
    for n in range(successes):
        tally.add(Outcome(None, shared=n % 3 == 0), 0.002, 1.0)
    for _ in range(refused):
        tally.add(Outcome("http 409 x"), 0.002, 1.0)
    tally.in_window = successes + refused  # a closed loop counts what ends in the window
    return tally


def test_a_row_divides_server_cpu_and_trips_by_every_answered_request() -> None:
    edges = (
        Snapshot(10.0, 1_000, 0.0, MachineTimes(0, 1_000)),
        Snapshot(13.0, 25_000, 0.0, MachineTimes(900, 2_000)),
    )
    usage = ClientUsage(2, (1.0, 1.2), 2.0, 2)
    measured = Measured(_tally(990, 10), 495.0, edges, usage, presigned=4_000, signed_late=0)
    row = settle_row(("http", "max", "processes", 1), 16, measured)
    assert row.completed == 990 and row.refused == {"http 409 x": 10}
    assert row.cpu_ms_per_request == pytest.approx(3.0)  # 3 s over 1 000 answers
    assert row.db_trips_per_request == pytest.approx(24.0)
    assert row.client_processes == 2 and row.client_cpu_s == pytest.approx(2.2)
    assert row.client_cpu_share == pytest.approx(0.55) and row.client_saturated is False
    assert row.machine_busy == pytest.approx(0.9)
    assert (row.presigned, row.signed_late) == (4_000, 0)


def test_a_service_row_has_no_client_figures_and_a_saturated_one_says_so() -> None:
    edges = (Snapshot(0.0, 0, 0.0, None), Snapshot(1.0, 0, 0.0, None))
    row = settle_row(
        ("service", "max", "in-process", None), 4, Measured(_tally(100, 0), 50.0, edges, None)
    )
    assert row.cpu_ms_per_request == pytest.approx(10.0)
    assert row.db_trips_per_request is None  # nothing counted: no figure, not zero
    assert row.client_saturated is None and row.machine_busy is None
    busy = ClientUsage(2, (1.9, 1.9), 2.0, 2)
    row = settle_row(("http", "max", "processes", 1), 4, Measured(_tally(10, 0), 5.0, edges, busy))
    assert row.client_saturated is True


def test_a_fixed_rate_row_divides_by_what_was_answered_in_the_window() -> None:
    """Behind its rate, the server spends the window on requests due before it: the CPU is
    divided by the 300 answered in the window, not by the 1 000 due in it."""
    tally = _tally(1_000, 0)
    tally.in_window = 300
    edges = (Snapshot(0.0, 0, 0.0, None), Snapshot(1.5, 9_000, 0.0, None))
    row = settle_row(("http", "500/s", "processes", 1), 50, Measured(tally, 100.0, edges, None))
    assert row.completed == 1_000
    assert row.cpu_ms_per_request == pytest.approx(5.0)
    assert row.db_trips_per_request == pytest.approx(30.0)
