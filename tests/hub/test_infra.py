"""hub/infra.py: when a worker whose sandbox keeps failing is held, and for how long."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.hub.infra import InfraConfig, InfraWatch


def test_third_failure_in_the_window_holds_and_says_why():
    iw = InfraWatch(InfraConfig(failures=3, window_s=120, hold_s=60, max_hold_s=900))
    assert iw.failure(0.0, "w", "loader died") is None
    assert iw.failure(5.0, "w", "loader died") is None
    hold = iw.failure(10.0, "w", "fork failed")
    assert hold is not None and hold.until == 70.0 and hold.hold_s == 60
    assert "failed 3 times within 120 s" in hold.reason and "fork failed" in hold.reason
    assert iw.held(69.0, "w") == hold and iw.held(70.0, "w") is None
    assert iw.failure(20.0, "w", "x") is None          # while held: no second hold
    assert iw.held(0.0, "other") is None


def test_failures_spread_out_never_hold():
    iw = InfraWatch(InfraConfig(failures=3, window_s=60))
    for i in range(20):
        assert iw.failure(i * 61.0, "w", "oom") is None


def test_holds_in_a_row_double_up_to_the_cap_and_a_quiet_spell_resets():
    iw = InfraWatch(InfraConfig(failures=1, window_s=100, hold_s=60, max_hold_s=200))
    t, seen = 0.0, []
    for _ in range(4):
        hold = iw.failure(t, "w", "e")
        seen.append(hold.hold_s)
        t = hold.until + 1
    assert seen == [60, 120, 200, 200]
    assert iw.failure(t + 1000, "w", "e").hold_s == 60
    iw.forget("w")
    assert iw.held(t + 1001, "w") is None


@given(st.lists(st.tuples(st.floats(0, 50), st.sampled_from("ab")), max_size=60))
def test_never_held_before_enough_failures_and_holds_are_per_worker(events):
    cfg = InfraConfig(failures=3, window_s=30, hold_s=10, max_hold_s=40)
    iw = InfraWatch(cfg)
    t = 0.0
    counts = {"a": 0, "b": 0}
    for dt, wid in events:
        t += dt
        counts[wid] += 1
        hold = iw.failure(t, wid, "r")
        if hold is not None:
            assert counts[wid] >= cfg.failures
            assert cfg.hold_s <= hold.hold_s <= cfg.max_hold_s and hold.until == t + hold.hold_s
            other = "b" if wid == "a" else "a"
            assert iw.held(t, other) is None or iw.held(t, other) is not hold
