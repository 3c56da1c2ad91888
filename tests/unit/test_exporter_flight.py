"""The exporter's single flight and scrape deadline: pure logic with a fake collector and a fake clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.core import Metric

from pyrotorque.jobs.exporter.flight import Outcome, SingleFlight
from pyrotorque.jobs.exporter.metrics import RtorrentCollector, build_groups
from tests.support.fake_rtorrent import FakeRtorrent, Request

#: Generous bound for waits that must end because the code under test lets them (never a speed claim).
PATIENCE = 30.0
#: A deadline meant to pass while the fake collector is held.
SHORT = 0.05


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class GatedWork:
    """A collection that runs until the test opens its gate; counts its runs."""

    def __init__(self, value: str = "families") -> None:
        self.gate = threading.Event()
        self.value = value
        self.runs = 0
        self.error: Exception | None = None

    def __call__(self) -> str:
        self.runs += 1
        if not self.gate.wait(PATIENCE):
            raise AssertionError("the test never opened the gate")
        if self.error is not None:
            raise self.error
        return f"{self.value} #{self.runs}"


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a state the code under test reaches by itself (bounded, no fixed sleep)."""
    done = threading.Event()
    for _ in range(int(PATIENCE / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def released() -> Iterator[list[GatedWork]]:
    """Gates to open after the test, so no worker thread outlives it."""
    works: list[GatedWork] = []
    yield works
    for work in works:
        work.gate.set()


def gated(
    released: list[GatedWork], cache_for: float = 0.0
) -> tuple[GatedWork, SingleFlight[str], FakeClock]:
    work, clock = GatedWork(), FakeClock()
    released.append(work)
    return work, SingleFlight(work, clock, cache_for=cache_for), clock


def in_threads(
    count: int, call: Callable[[], Outcome[str] | None]
) -> tuple[list[threading.Thread], list[Outcome[str] | None]]:
    results: list[Outcome[str] | None] = []
    lock = threading.Lock()

    def run() -> None:
        outcome = call()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


def test_concurrent_callers_share_one_collection(released: list[GatedWork]) -> None:
    work, flight, _ = gated(released)
    threads, results = in_threads(20, lambda: flight.get(PATIENCE))
    wait_until(lambda: flight.waiting == 20, "all twenty callers wait for the flight")
    work.gate.set()
    for thread in threads:
        thread.join(PATIENCE)
    assert work.runs == 1 and flight.collections == 1
    assert len(results) == 20
    assert {outcome.result() for outcome in results if outcome is not None} == {"families #1"}
    assert None not in results


def test_a_stuck_collection_is_abandoned_and_never_doubled(released: list[GatedWork]) -> None:
    work, flight, _ = gated(released)
    base = threading.active_count()
    assert flight.get(SHORT) is None  # past the deadline: the caller answers without it
    assert flight.busy
    for _ in range(30):
        assert flight.get(SHORT) is None
    assert work.runs == 1 and flight.collections == 1
    assert threading.active_count() <= base + 1  # one worker, however many callers gave up on it
    work.gate.set()
    wait_until(lambda: not flight.busy, "the stuck collection ends")
    outcome = flight.get(SHORT)  # no cache: a new collection, which finishes at once now
    assert outcome is not None and outcome.result() == "families #2"


def test_the_late_result_of_an_abandoned_collection_serves_within_the_cache(
    released: list[GatedWork],
) -> None:
    work, flight, _ = gated(released, cache_for=1.0)
    assert flight.get(SHORT) is None
    work.gate.set()
    wait_until(lambda: not flight.busy, "the collection ends")
    outcome = flight.get(SHORT)
    assert outcome is not None and outcome.result() == "families #1"
    assert flight.collections == 1


def test_the_cache_serves_for_cache_for_seconds_then_a_new_collection_runs(
    released: list[GatedWork],
) -> None:
    work, flight, clock = gated(released, cache_for=1.0)
    work.gate.set()
    first = flight.get(PATIENCE)
    clock.now += 0.9
    again = flight.get(PATIENCE)
    assert first is again and flight.collections == 1
    clock.now += 0.1
    fresh = flight.get(PATIENCE)
    assert fresh is not None and fresh.result() == "families #2" and flight.collections == 2


def test_no_cache_means_every_call_after_the_flight_collects_anew(released: list[GatedWork]) -> None:
    work, flight, _ = gated(released)
    work.gate.set()
    assert [outcome.result() for outcome in (flight.get(PATIENCE), flight.get(PATIENCE)) if outcome] == [
        "families #1",
        "families #2",
    ]


def test_an_exception_reaches_every_waiting_caller(released: list[GatedWork]) -> None:
    work, flight, _ = gated(released)
    work.error = ValueError("a bug in a group")
    threads, results = in_threads(3, lambda: flight.get(PATIENCE))
    wait_until(lambda: flight.waiting == 3, "three callers wait")
    work.gate.set()
    for thread in threads:
        thread.join(PATIENCE)
    for outcome in results:
        assert outcome is not None
        with pytest.raises(ValueError, match="a bug in a group"):
            outcome.result()


def test_the_outcome_carries_the_collection_time_on_the_clock() -> None:
    clock = FakeClock()

    def work() -> str:
        clock.now += 2.5
        return "done"

    outcome = SingleFlight(work, clock).get(PATIENCE)
    assert outcome is not None and outcome.duration == 2.5 and outcome.finished == clock.now


# --- the collector's deadline, over the fake rTorrent ------------------------------------------


def held_collector(
    fake: FakeRtorrent, gate: threading.Event, *, timeout: float, cache_for: float = 0.0
) -> RtorrentCollector:
    """A collector whose rTorrent answers only once ``gate`` is open (detection is done beforehand)."""
    client = fake.client()
    client.server_info()

    def hold(request: Request) -> None:
        gate.wait(PATIENCE)

    fake.on_request = hold
    log = logging.getLogger("pyrotorque.job.exporter")
    groups = build_groups(("system",), "rtorrent_", aliases={}, item_stats=(), item_labels=(), log=log)
    return RtorrentCollector(client, "rtorrent_", groups, log, scrape_timeout=timeout, cache_for=cache_for)


def values(families: list[Metric]) -> dict[str, float]:
    return {family.name: family.samples[0].value for family in families if family.samples}


def test_a_scrape_past_its_deadline_answers_up_0_and_then_up_1_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = threading.Event()
    collector = held_collector(FakeRtorrent(), gate, timeout=SHORT)
    try:
        with caplog.at_level(logging.WARNING, logger="pyrotorque.job.exporter"):
            first = collector.scrape(SHORT)
            second = collector.scrape(SHORT)
        assert [family.name for family in first] == ["rtorrent_up", "rtorrent_scrape_duration_seconds"]
        assert values(first)["rtorrent_up"] == 0 and values(second)["rtorrent_up"] == 0
        assert collector.flight.collections == 1  # the second scrape did not start another
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "scrape timeout of 0.05 s" in warnings[0]
    finally:
        gate.set()
    wait_until(lambda: not collector.flight.busy, "the held collection ends")
    answered = collector.scrape(PATIENCE)
    assert values(answered)["rtorrent_up"] == 1
    assert "rtorrent_view_size" in {family.name for family in answered}
    assert (collector.scrapes, collector.failed_scrapes) == (3, 2)
