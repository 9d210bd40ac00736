"""The multi-hub worker's arbiter (pure core): properties over any hubs and slot counts."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.worker.arbiter import Allotment, Dryness, HubView, acceptable, allot

prices = st.one_of(st.none(), st.decimals(min_value=0, max_value=10, places=2))
views = st.builds(HubView, order=st.integers(0, 5), connected=st.booleans(),
                  running=st.integers(0, 8), queued=st.integers(0, 8), price=prices,
                  work=st.one_of(st.none(), st.integers(0, 20)), dry=st.booleans())
hub_sets = st.dictionaries(st.sampled_from("abcdef"), views, max_size=5)
min_prices = st.decimals(min_value=0, max_value=10, places=2)


def price(h: HubView) -> Decimal:
    return h.price if h.price is not None else Decimal(0)


def demand(h: HubView, total: int) -> int:
    """Slots a hub could use: its held leases, plus the work its offer counts, or every slot
    when the count is unknown or 0 (an offer is seconds old; only dryness is news)."""
    more = (h.work or total) if h.more_work else 0
    return h.queued + more


@given(st.integers(1, 16), hub_sets, min_prices)
def test_running_fragments_keep_their_slots_and_the_total_holds(total, hubs, min_price):
    out = allot(total, hubs, min_price)
    assert set(out) == set(hubs)
    for name, h in hubs.items():
        assert out[name].slots >= h.running            # never takes a running fragment's slot
        if out[name].hold is not None:
            assert out[name].hold >= h.running
    given_ = sum(out[n].slots - h.running for n, h in hubs.items())
    assert given_ <= max(0, total - sum(h.running for h in hubs.values()))


@given(st.integers(1, 16), hub_sets, min_prices)
def test_only_acceptable_hubs_with_work_get_free_slots(total, hubs, min_price):
    out = allot(total, hubs, min_price)
    for name, h in hubs.items():
        if not acceptable(h, min_price) or not h.has_work:
            assert out[name].slots == h.running
        if not acceptable(h, min_price):
            assert out[name].hold == h.running         # queued leases go back, no probe


@given(st.integers(1, 16), hub_sets, min_prices)
def test_best_price_first_and_work_conserving(total, hubs, min_price):
    out = allot(total, hubs, min_price)
    free = max(0, total - sum(h.running for h in hubs.values()))
    wanting = {n: h for n, h in hubs.items() if acceptable(h, min_price) and h.has_work}
    gave = {n: out[n].slots - h.running for n, h in wanting.items()}
    # every free slot some acceptable hub could use is given
    assert sum(gave.values()) == min(free, sum(demand(h, total) for h in wanting.values()))
    # a hub that got less than it could use means no worse hub got anything
    for n, h in wanting.items():
        if gave[n] < demand(h, total):
            for m, g in wanting.items():
                if (-price(g), g.order) > (-price(h), h.order):
                    assert gave[m] == 0, (n, m)


@given(st.integers(1, 16), hub_sets, min_prices)
def test_probes_only_above_every_hub_with_work(total, hubs, min_price):
    out = allot(total, hubs, min_price)
    with_work = [(-price(h), h.order) for h in hubs.values()
                 if acceptable(h, min_price) and h.has_work]
    for name, h in hubs.items():
        if out[name] == Allotment(h.running, h.running + 1) and not h.has_work:
            assert acceptable(h, min_price)
            assert all((-price(h), h.order) < w for w in with_work)


def test_the_better_hub_takes_slots_only_as_they_free_up():
    low = HubView(order=0, connected=True, running=4, queued=2, price=Decimal("1"))
    high = HubView(order=1, connected=True, running=0, queued=1, price=Decimal("2"))
    out = allot(4, {"low": low, "high": high})
    assert out["low"] == Allotment(4, 4)          # keeps its running four, hands back queued
    assert out["high"] == Allotment(0, None)      # keeps its leases for the next free slots
    out = allot(4, {"low": HubView(0, True, 3, 0, Decimal("1")), "high": high})
    assert out["high"].slots == 1 and out["low"].slots == 3


def test_min_price_refuses_a_cheap_hub_and_an_unknown_price():
    hubs = {"cheap": HubView(0, True, 0, 0, Decimal("0.5")), "unknown": HubView(1, True, 0, 0)}
    out = allot(2, hubs, Decimal("1"))
    assert out == {"cheap": Allotment(0, 0), "unknown": Allotment(0, 0)}
    assert allot(2, hubs)["cheap"].slots == 2     # no minimum: the known price ranks first


def test_a_dry_better_hub_keeps_one_probe_lease():
    hubs = {"best": HubView(0, True, 0, 0, Decimal("3"), dry=True),
            "other": HubView(1, True, 2, 0, Decimal("1"))}
    out = allot(2, hubs)
    assert out["best"] == Allotment(0, 1)
    assert out["other"].slots == 2


@given(st.lists(st.tuples(st.floats(0, 0.5), st.integers(0, 3), st.booleans()), max_size=40))
def test_dryness_follows_leases_and_credit(steps):
    d = Dryness(after_s=1.0)
    now, leases, since = 0.0, 0, None
    for dt, credit, lease in steps:
        now += dt
        if lease:
            leases += 1
            since = None
        if credit and since is None:
            since = now
        if not credit:
            since = None
        dry = d.observe(now, credit, leases)
        if lease:
            assert dry is (credit > 0 and False)
        if since is not None and now - since >= 1.0:
            assert dry


class FakeCore:
    """What SlotShares reads of a hub's core, and what set_allotment does to it."""

    UP = "up"

    def __init__(self):
        self.state = "up"
        self.running: set[int] = set()
        self.waiting = 0
        self.credit_out = 0
        self.counters = type("C", (), {"leases_received": 0})()
        self.budget = None
        self.next = 0

    def set_allotment(self, starts, hold, now):
        # as WorkerCore: a hub winning slots refills its share as fragments end, any other
        # starts only what it was given
        self.budget, self.hold, self.share = starts, hold, len(self.running) + starts
        return []

    def start(self):
        while self.waiting and self.budget is not None and (
                len(self.running) < self.share if self.hold is None else self.budget > 0):
            self.waiting -= 1
            self.budget -= 1
            self.next += 1
            self.running.add(self.next)


@settings(max_examples=300)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 2), st.sampled_from(
    ["update", "lease", "end", "start", "price"]), st.integers(0, 3)), max_size=120))
def test_shares_never_add_up_to_more_than_the_slots(total, steps):
    from cpushare_mq.worker.multihub import SlotShares

    shares = SlotShares(total, connect_grace_s=0.0)
    cores = [FakeCore() for _ in range(3)]
    for i in range(3):
        shares.add(str(i))
    now = 0.0
    for hub, what, n in steps:
        now += 0.1
        core = cores[hub]
        if what == "update":
            shares.update(str(hub), core, now)
        elif what == "lease":
            core.waiting += n
            core.counters.leases_received += n
        elif what == "end" and core.running:
            core.running.pop()
        elif what == "start":
            core.start()
        elif what == "price":
            shares.set_offer(str(hub), Decimal(n), None)
        # what runs never exceeds the slots, whatever order the hubs' threads ran in
        assert sum(len(c.running) for c in cores) <= total
