"""The worker's pure core: unit tests and a hypothesis state machine (fake clock, no I/O)."""

from __future__ import annotations

import hashlib

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import Message, MsgType, decode, encode
from cpushare_mq.worker.slotwork import (
    ChunkReady,
    RunEnded,
    RunFailed,
    SlotGaveUp,
    WorkItem,
    deliver,
)
from cpushare_mq.worker.state import (
    Abort,
    Backoff,
    Connect,
    CoreConfig,
    Disconnect,
    Exit,
    IdleDetector,
    LeaseState,
    PauseSandboxes,
    ResumeSandboxes,
    Run,
    Send,
    WorkerCore,
)

PSHA = hashlib.sha256(b"prog").hexdigest()
SSHA = hashlib.sha256(b"").hexdigest()
OK = OutcomeRecord(Outcome.OK)
HELLO_INFO = {"worker_version": "t", "abi_version": 1}


def msg(mtype, body=None, blobs=()):
    """Build a message the way the agent receives it: encoded then decoded (validated)."""
    return decode(encode(mtype, body or {}, list(blobs)))


def lease_msg(keys, lease_s=30.0, psha=PSHA):
    specs = [{"job_id": "j", "fragment_id": f, "index": f, "attempt": a, "lease_s": lease_s,
              "program_sha256": psha, "shared_sha256": SSHA, "cpu_s": 1.0, "wall_s": 1.0,
              "max_output_bytes": 1000} for f, a in keys]
    return msg(MsgType.LEASE, {"leases": specs}, [b"in%d" % f for f, _ in keys])


def welcome(held_ok=(), interval=0.5, liveness=3, features=()):
    return msg(MsgType.WELCOME, {"worker_id": "w1", "hub_version": "h", "heartbeat_interval_s": interval,
                                 "liveness": liveness, "held_ok": [list(k) for k in held_ok],
                                 **({"features": list(features)} if features else {})})


def sends(actions, mtype=None):
    return [a for a in actions if isinstance(a, Send) and (mtype is None or a.type is mtype)]


def check_wire(actions):
    """Everything the core sends must pass the protocol's own validation."""
    for a in sends(actions):
        decode(encode(a.type, a.body, a.blobs))


def joined(slots=2, prefetch=1, blobs=(PSHA, SSHA), features=(), **kw):
    core = WorkerCore(CoreConfig(slots=slots, prefetch=prefetch, hello_info=HELLO_INFO, **kw), 0.0)
    for b in blobs:
        core.blobs.add(b)
    out = core.tick(0.0)
    assert isinstance(out[0], Connect) and sends(out, MsgType.HELLO)
    out = core.on_message(welcome(features=features), 0.01)
    return core, out


# --------------------------------------------------------------------------- unit tests

def test_backoff_is_capped_exponential_and_resets():
    b = Backoff(0.1, 1.0)
    assert [b.failure() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    b.reset()
    assert b.failure() == pytest.approx(0.1)
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_idle_detector_hysteresis():
    d = IdleDetector(threshold_pct=30, pause_after_s=3, resume_after_s=5)
    assert d.sample(0, 90) is None
    assert d.sample(2, 90) is None
    assert d.sample(2.5, 10) is None       # a dip resets the busy run
    assert d.sample(3, 90) is None
    assert d.sample(5.9, 90) is None
    assert d.sample(6.0, 95) == "pause"
    assert d.sample(7, 10) is None
    assert d.sample(11.9, 10) is None
    assert d.sample(12.0, 0) == "resume"
    assert not d.paused


def test_join_asks_for_slots_plus_prefetch():
    core, out = joined(slots=3, prefetch=2)
    ready = sends(out, MsgType.READY)
    assert [r.body["credit"] for r in ready] == [5]
    check_wire(out)


def test_prefetch_adapts_to_fragment_run_time():
    core, _ = joined(slots=2, prefetch=1, max_prefetch=50, queue_window_s=0.02)
    assert core.prefetch == 1                     # nothing measured yet: assume long fragments
    t, fid = 0.1, 0
    for _ in range(40):                           # 1 ms fragments
        core.on_message(lease_msg([(fid, 0)]), t)
        core.end((fid, 0), 1, "a" * 64, 1, OK, b"r", t + 0.001)
        t += 0.002
        fid += 1
    assert 30 <= core.prefetch <= 50              # 2 slots x 20 ms / 1 ms = 40
    for _ in range(40):                           # then 2 s fragments
        core.on_message(lease_msg([(fid, 0)]), t)
        core.end((fid, 0), 1, "a" * 64, 1, OK, b"r", t + 2.0)
        t += 2.0
        fid += 1
    assert core.prefetch == 1


def _run_short_fragments(core, n, t, fid, dt=0.0001):
    for _ in range(n):
        core.on_message(lease_msg([(fid, 0)]), t)
        core.end((fid, 0), 1, "a" * 64, 1, OutcomeRecord(Outcome.OK, wall_s=dt), b"r", t + dt)
        t += 2 * dt
        fid += 1
    return t, fid


def test_a_stall_of_the_worker_sheds_nothing():
    """The worker is descheduled for 50 ms: the few fragments in flight all look slow. That
    dents the average (less credit asked for a moment) but hands nothing back."""
    core, _ = joined(slots=1, prefetch=1, max_prefetch=200, queue_window_s=0.02,
                     features=("release_resets_credit",))
    t, fid = _run_short_fragments(core, 80, 0.1, 0)
    core.on_message(lease_msg([(fid + i, 0) for i in range(150)]), t)
    released = []
    for i in range(4):                            # the stall: 4 fragments take 50 ms
        running = next(iter(core.running))
        out = core.end(running, 1, "a" * 64, 1, OutcomeRecord(Outcome.OK, wall_s=0.0001), b"r",
                       t + 0.05 * (i + 1))   # the sandbox was quick; the worker was not
        released += sends(out, MsgType.RELEASE)
    assert released == [] and core.shed == 0


@pytest.mark.parametrize("hub_resets_credit", [True, False])
def test_prefetched_leases_are_handed_back_when_fragments_get_longer(hub_resets_credit):
    """A worker warmed on 0.1 ms fragments holds a deep prefetch; when the next job's
    fragments take 20 ms it hands the surplus back (RELEASE) so other workers can run them,
    and forgets its unused credit, as a hub with the feature does. A hub without the
    feature gets no surplus RELEASE (it would lease the work straight back)."""
    features = ("release_resets_credit",) if hub_resets_credit else ()
    core, _ = joined(slots=1, prefetch=1, max_prefetch=200, queue_window_s=0.02,
                     features=features)
    t, fid = _run_short_fragments(core, 80, 0.1, 0)
    assert core.prefetch >= 150
    queued = [(fid + i, 0) for i in range(120)]
    core.on_message(lease_msg(queued), t)          # the next job: all prefetched at once
    released, t_run = [], t
    for _ in range(6):                             # its fragments take 20 ms each
        running = next(iter(core.running))
        out = core.end(running, 1, "a" * 64, 1, OutcomeRecord(Outcome.OK, wall_s=0.02), b"r",
                       t_run + 0.02)
        check_wire(out)
        for r in sends(out, MsgType.RELEASE):
            released += [tuple(k) for k in r.body["leases"]]
        t_run += 0.02
    if not hub_resets_credit:
        assert released == [] and core.shed == 0
        return
    assert len(released) >= 100 and core.shed == len(released)
    assert set(released) <= set(queued) and len(set(released)) == len(released)
    assert released[0] == queued[-1]               # the most recently queued go first
    assert core.credit_out == 0
    assert core.active <= 1 + core.prefetch + max(2, (1 + core.prefetch) // 2)
    assert not (set(released) & set(core.leases))  # forgotten here


def test_lease_runs_on_free_slots_and_result_flow():
    core, _ = joined(slots=2, prefetch=1)
    out = core.on_message(lease_msg([(1, 0), (2, 0), (3, 0)]), 0.1)
    runs = [a for a in out if isinstance(a, Run)]
    assert [r.item.key for r in runs] == [(1, 0), (2, 0)]
    assert runs[0].item.input == b"in1"
    assert not sends(out, MsgType.READY)        # 3 held = slots + prefetch: no more credit
    out = core.chunk((1, 0), 0, b"c0", 0.2)
    assert sends(out, MsgType.RESULT_CHUNK)[0].body["seq"] == 0
    out = core.end((1, 0), 2, "a" * 64, 10, OK, b"c1", 0.3)
    end = sends(out, MsgType.RESULT_END)[0]
    assert end.blobs == [b"c1"] and end.body["chunks"] == 2
    assert [r.item.key for r in out if isinstance(r, Run)] == [(3, 0)]
    assert [r.body["credit"] for r in sends(out, MsgType.READY)] == [1]
    check_wire(out)
    out = core.on_message(msg(MsgType.ACK, {"results": [[1, 0, "accepted"]]}), 0.4)
    assert (1, 0) not in core.leases and core.retained_total == 0


def test_missing_blob_is_fetched_once_then_runs():
    core, _ = joined(blobs=(SSHA,))
    out = core.on_message(lease_msg([(1, 0), (2, 0)]), 0.1)
    assert [f.body["sha256"] for f in sends(out, MsgType.FETCH)] == [PSHA]
    assert not [a for a in out if isinstance(a, Run)]
    out = core.blob_available(PSHA, 0.2)
    assert [a.item.key for a in out if isinstance(a, Run)] == [(1, 0), (2, 0)]


def test_hub_silence_disconnects_then_reconnects_with_backoff_and_held():
    core, _ = joined(slots=1, prefetch=1, backoff_initial_s=0.25)
    core.on_message(lease_msg([(1, 0), (2, 0)]), 0.1)
    core.end((1, 0), 1, "b" * 64, 3, OK, b"x", 0.2)
    assert not [a for a in core.tick(1.5) if isinstance(a, Disconnect)]   # 1.4 s < 3 x 0.5
    out = core.tick(1.7)
    assert [a for a in out if isinstance(a, Disconnect)] and core.state == core.DOWN
    assert not sends(core.tick(1.8))                     # backoff: nothing yet
    out = core.tick(1.96)
    assert isinstance(out[0], Connect)
    hello = sends(out, MsgType.HELLO)[0]
    # (1,0) finished but unacked, (2,0) running: both held
    assert sorted(map(tuple, hello.body["held"])) == [(1, 0), (2, 0)]
    out = core.on_message(welcome(held_ok=[(1, 0)]), 2.0)
    assert [a.key for a in out if isinstance(a, Abort)] == [(2, 0)]   # not honoured
    assert sends(out, MsgType.RESULT_END)[0].body["fragment_id"] == 1  # replayed
    assert set(core.leases) == {(1, 0)}


def test_replay_after_reconnect_restarts_chunks_at_zero():
    core, _ = joined(slots=1, prefetch=0)
    core.on_message(lease_msg([(5, 1)]), 0.1)
    core.chunk((5, 1), 0, b"a", 0.2)
    core.chunk((5, 1), 1, b"b", 0.3)
    core.tick(5.0)                                     # hub dead
    out = core.tick(5.2)
    assert sends(out, MsgType.HELLO)[0].body["held"] == [[5, 1]]
    out = core.on_message(welcome(held_ok=[(5, 1)]), 5.3)
    assert [s.body["seq"] for s in sends(out, MsgType.RESULT_CHUNK)] == [0, 1]
    out = core.end((5, 1), 3, "c" * 64, 3, OK, b"c", 5.4)
    assert sends(out, MsgType.RESULT_END)


def test_unretainable_result_is_not_reannounced():
    core, _ = joined(slots=1, prefetch=0, retain_bytes=1000)
    core.on_message(lease_msg([(5, 1)]), 0.1)
    core.chunk((5, 1), 0, b"x" * 2000, 0.2)           # too big to keep for replay
    core.tick(5.0)
    out = core.tick(5.2)
    assert sends(out, MsgType.HELLO)[0].body["held"] == []


def test_cancel_aborts_running_and_frees_credit():
    core, _ = joined(slots=1, prefetch=0)
    core.on_message(lease_msg([(1, 0)]), 0.1)
    out = core.on_message(msg(MsgType.CANCEL, {"leases": [[1, 0]], "reason": "done elsewhere"}), 0.2)
    assert [a.key for a in out if isinstance(a, Abort)] == [(1, 0)]
    assert not sends(out, MsgType.READY)               # the slot is still busy until it reports
    out = core.failure((1, 0), OutcomeRecord(Outcome.CRASH, message="aborted"), 0.3)
    assert not sends(out, MsgType.FAILURE)             # nothing reported for a cancelled lease
    assert [r.body["credit"] for r in sends(out, MsgType.READY)] == [1]


def test_unknown_worker_error_rejoins_with_held():
    core, _ = joined(slots=1, prefetch=0)
    core.on_message(lease_msg([(1, 0)]), 0.1)
    out = core.on_message(msg(MsgType.ERROR, {"code": "unknown_worker", "message": "who?"}), 0.2)
    assert sends(out, MsgType.HELLO)[0].body["held"] == [[1, 0]]


def test_refused_fetch_is_asked_again_by_a_later_lease():
    """The hub refuses a FETCH whose lease ended meanwhile ("forbidden"): a later lease of
    the same job must FETCH again instead of waiting for an answer that never comes."""
    core, _ = joined(slots=1, prefetch=0, blobs=(SSHA,))
    out = core.on_message(lease_msg([(1, 0)]), 0.1)
    assert [s.body["sha256"] for s in sends(out, MsgType.FETCH)] == [PSHA]
    core.on_message(msg(MsgType.CANCEL, {"leases": [[1, 0]], "reason": "done elsewhere"}), 0.2)
    core.on_message(msg(MsgType.ERROR, {"code": "forbidden", "message":
                    f"blob {PSHA[:16]}... belongs to no job you hold a lease of now"}), 0.3)
    out = core.on_message(lease_msg([(2, 0)]), 0.4)
    assert [s.body["sha256"] for s in sends(out, MsgType.FETCH)] == [PSHA]


def test_warm_shutdown_releases_unstarted_then_byes_after_ack():
    core, _ = joined(slots=1, prefetch=2)
    core.on_message(lease_msg([(1, 0), (2, 0), (3, 0)]), 0.1)
    out = core.begin_shutdown(0.2, grace_s=5.0)
    rel = sends(out, MsgType.RELEASE)
    assert sorted(map(tuple, rel[0].body["leases"])) == [(2, 0), (3, 0)]
    assert not [a for a in out if isinstance(a, Exit)]
    out = core.end((1, 0), 1, "d" * 64, 1, OK, b"r", 0.5)
    assert sends(out, MsgType.RESULT_END) and not sends(out, MsgType.READY)
    assert not [a for a in out if isinstance(a, Exit)]  # waits for the ACK
    out = core.on_message(msg(MsgType.ACK, {"results": [[1, 0, "accepted"]]}), 0.6)
    assert sends(out, MsgType.BYE) and [a for a in out if isinstance(a, Exit)]


def test_warm_shutdown_grace_over_releases_running():
    core, _ = joined(slots=1, prefetch=0)
    core.on_message(lease_msg([(1, 0)]), 0.1)
    core.begin_shutdown(0.2, grace_s=1.0)
    out = core.tick(1.3)
    assert [a.key for a in out if isinstance(a, Abort)] == [(1, 0)]
    assert sends(out, MsgType.RELEASE)[0].body["leases"] == [[1, 0]]
    assert sends(out, MsgType.BYE) and core.exited


def test_forced_shutdown_releases_everything_at_once():
    core, _ = joined(slots=1, prefetch=1)
    core.on_message(lease_msg([(1, 0), (2, 0)]), 0.1)
    core.begin_shutdown(0.2, grace_s=30)
    out = core.force_shutdown(0.3)
    released = {tuple(k) for r in sends(out, MsgType.RELEASE) for k in r.body["leases"]}
    assert released == {(1, 0)}        # (2,0) was already released by the warm shutdown
    assert [a.key for a in out if isinstance(a, Abort)] == [(1, 0)]
    assert isinstance(out[-1], Exit)


def test_pause_releases_queued_and_reports_status():
    core, _ = joined(slots=1, prefetch=1)
    core.on_message(lease_msg([(1, 0), (2, 0)]), 0.1)
    out = core.pause(0.2)
    assert isinstance(out[0], PauseSandboxes)
    assert sends(out, MsgType.STATUS)[0].body == {"paused": True, "busy": 1}
    assert sends(out, MsgType.RELEASE)[0].body["leases"] == [[2, 0]]
    out = core.end((1, 0), 1, "e" * 64, 1, OK, b"r", 0.3)
    assert not sends(out, MsgType.READY)               # paused: no new work
    out = core.resume(0.4)
    assert isinstance(out[0], ResumeSandboxes)
    assert sends(out, MsgType.STATUS)[0].body["paused"] is False
    assert sends(out, MsgType.READY)


def test_heartbeat_when_idle_and_unacked_result_resent():
    core, _ = joined(slots=1, prefetch=0, ack_timeout_s=2.0)
    core.on_message(lease_msg([(1, 0)]), 0.1)
    core.end((1, 0), 1, "f" * 64, 1, OK, b"r", 0.2)
    t = 0.2
    resent = 0
    while t < 3.0:
        t += 0.25
        core.on_message(msg(MsgType.HEARTBEAT), t)     # the hub is alive
        out = core.tick(t)
        resent += len(sends(out, MsgType.RESULT_END))
        if t > 0.8:
            assert core.last_send >= t - 0.5 - 1e-9
    assert resent == 1


def test_unsolicited_leases_are_handed_back():
    core, _ = joined(slots=1, prefetch=0)          # asked for 1
    out = core.on_message(lease_msg([(1, 0), (2, 0), (3, 0)]), 0.1)
    assert set(core.leases) == {(1, 0)}
    released = {tuple(k) for r in sends(out, MsgType.RELEASE) for k in r.body["leases"]}
    assert released == {(2, 0), (3, 0)}


def test_queued_input_bytes_bound_credit():
    core, _ = joined(slots=1, prefetch=4, max_queued_input_bytes=5, blobs=(SSHA,))
    core.on_message(lease_msg([(1, 0), (2, 0), (3, 0)]), 0.1)     # 3 x 3 bytes, waiting for a blob
    out = core.on_message(msg(MsgType.HEARTBEAT), 0.2)
    assert core.waiting_bytes == 9 and not sends(out, MsgType.READY)


def test_sandbox_setup_failure_pauses_asking_for_work():
    core, _ = joined(slots=1, prefetch=0, setup_failure_pause_s=5.0)
    core.on_message(lease_msg([(1, 0)]), 0.1)
    out = core.slot_gave_up((1, 0), "sandbox error: no loader", 0.2)
    assert sends(out, MsgType.RELEASE) and not sends(out, MsgType.READY)
    out = core.on_message(msg(MsgType.HEARTBEAT), 4.0) + core.tick(4.0)
    assert not sends(out, MsgType.READY)
    out = core.on_message(msg(MsgType.HEARTBEAT), 5.3) + core.tick(5.3)
    assert sends(out, MsgType.READY)


def test_unacknowledged_results_are_bounded(monkeypatch):
    import cpushare_mq.worker.leasebook as leasebook_mod
    monkeypatch.setattr(leasebook_mod, "MAX_UNACKED", 5)
    core, _ = joined(slots=1, prefetch=0)
    for fid in range(7):
        core.on_message(lease_msg([(fid, 0)]), 0.1 + fid)
        core.end((fid, 0), 1, "a" * 64, 1, OK, b"r", 0.2 + fid)
    assert core.unacked == len(core.leases) == 5
    assert set(core.leases) == {(f, 0) for f in range(2, 7)}     # the oldest went first


def test_expired_unstarted_lease_is_dropped():
    core, _ = joined(slots=1, prefetch=1, blobs=(SSHA,))
    core.on_message(lease_msg([(1, 0)], lease_s=1.0), 0.1)
    core.on_message(msg(MsgType.HEARTBEAT), 1.0)
    core.tick(1.0)
    assert (1, 0) in core.leases
    core.on_message(msg(MsgType.HEARTBEAT), 1.2)
    out = core.tick(1.2)
    assert (1, 0) not in core.leases and sends(out, MsgType.READY)


# --------------------------------------------------------------------------- state machine

class CoreMachine(RuleBasedStateMachine):
    """Random sequences of hub messages, slot events, time and failures against the core,
    with a model of what the hub was told."""

    def __init__(self):
        super().__init__()
        self.slots, self.prefetch = 2, 2
        self.now = 0.0
        # announced_slots: the hub hears a count of its own (a pipelining agent runs
        # two leases per slot); the core must never rewrite it
        self.core = WorkerCore(CoreConfig(slots=self.slots, announced_slots=1,
                                          prefetch=self.prefetch, max_prefetch=6, queue_window_s=0.05,
                                          hello_info=HELLO_INFO, retain_bytes=600,
                                          backoff_initial_s=0.1, backoff_max_s=1.0), 0.0)
        self.core.blobs.update({PSHA, SSHA})
        self.next_fid = 0
        self.hub_credit = 0
        self.running: set = set()       # keys the shell is running (Run without a slot event)
        self.handed_back: set = set()   # released / cancelled / aborted keys
        self.acked: set = set()
        self.connected = False
        self.pending_hello = None
        self.outcomes_sent: dict = {}   # key -> number of RESULT_END/FAILURE (per session replay)
        self.apply(self.core.tick(self.now))

    def apply(self, actions):
        check_wire(actions)
        for a in actions:
            if isinstance(a, Connect):
                self.connected = True
            elif isinstance(a, Disconnect):
                self.connected = False
                self.hub_credit = 0
            elif isinstance(a, Send):
                assert self.connected, f"sent {a.type.name} with no socket"
                if a.type is MsgType.HELLO:
                    assert a.body["slots"] == 1, "HELLO.slots is not the announced count"
                    self.pending_hello = a.body
                    self.hub_credit = 0
                elif a.type is MsgType.READY:
                    self.hub_credit += a.body["credit"]
                elif a.type is MsgType.RELEASE:
                    self.handed_back.update(tuple(k) for k in a.body["leases"])
                elif a.type in (MsgType.RESULT_END, MsgType.FAILURE):
                    key = (a.body["fragment_id"], a.body["attempt"])
                    assert key not in self.acked, "result sent again after its ACK"
            elif isinstance(a, Run):
                item = a.item
                assert isinstance(item, WorkItem) and item.key not in self.running
                # the slot gets its own frozen copy with the input the hub sent, also
                # when the lease runs again after its blob was lost
                assert item.input == b"in%d" % item.key[0]
                with pytest.raises(AttributeError):
                    item.input = None
                self.running.add(item.key)
            elif isinstance(a, Abort):
                self.handed_back.add(a.key)

    def advance(self, dt):
        self.now += dt

    @rule(dt=st.floats(0.01, 0.4))
    def hub_heartbeat(self, dt):
        self.advance(dt)
        self.apply(self.core.on_message(msg(MsgType.HEARTBEAT), self.now))
        self.apply(self.core.tick(self.now))

    @rule(dt=st.floats(0.01, 3.0))
    def time_passes(self, dt):
        self.advance(dt)
        self.apply(self.core.tick(self.now))

    @precondition(lambda self: self.pending_hello is not None and self.core.state == "hello")
    @rule(data=st.data())
    def hub_welcomes(self, data):
        held = [tuple(k) for k in self.pending_hello["held"]]
        ok = data.draw(st.lists(st.sampled_from(held), unique=True)) if held else []
        self.advance(0.01)
        self.apply(self.core.on_message(welcome(ok), self.now))
        assert set(self.core.leases) <= set(ok) | set()
        self.pending_hello = None

    @precondition(lambda self: self.core.state == "up" and self.hub_credit > 0)
    @rule(n=st.integers(1, 4))
    def hub_leases(self, n):
        n = min(n, self.hub_credit)
        keys = [(self.next_fid + i, 0) for i in range(n)]
        self.next_fid += n
        self.hub_credit -= n
        self.advance(0.01)
        self.apply(self.core.on_message(lease_msg(keys), self.now))

    @precondition(lambda self: self.running)
    @rule(data=st.data(), ok=st.booleans(), nchunks=st.integers(0, 3),
          dt=st.sampled_from([0.001, 0.01, 0.5]))
    def slot_finishes(self, data, ok, nchunks, dt):
        key = data.draw(st.sampled_from(sorted(self.running)))
        self.advance(dt)
        # typed slot events, delivered the way the agent delivers them
        for i in range(nchunks):
            self.apply(deliver(self.core, ChunkReady(key, i, b"z" * 100), self.now))
        if ok:
            event = RunEnded(key, nchunks + 1, "0" * 64, 1, OK, b"z")
        else:
            event = RunFailed(key, OutcomeRecord(Outcome.CRASH, signal=4))
        self.apply(deliver(self.core, event, self.now))
        self.running.discard(key)
        lease = self.core.leases.get(key)
        assert lease is None or lease.input is None   # ran: the core let its input go

    @precondition(lambda self: self.running)
    @rule(data=st.data())
    def runner_loses_blob(self, data):
        """The agent could not load the program for a Run: the lease waits for it again
        (its input is still the core's) and the core fetches the blob."""
        key = data.draw(st.sampled_from(sorted(self.running)))
        self.advance(0.01)
        self.apply(self.core.blob_lost(PSHA, key, self.now))
        self.running.discard(key)
        lease = self.core.leases.get(key)
        assert lease is None or lease.state is LeaseState.FETCHING

    @precondition(lambda self: PSHA not in self.core.blobs)
    @rule()
    def blob_arrives(self):
        self.advance(0.01)
        self.apply(self.core.blob_available(PSHA, self.now))

    @precondition(lambda self: self.running)
    @rule(data=st.data())
    def slot_cannot_start_sandbox(self, data):
        key = data.draw(st.sampled_from(sorted(self.running)))
        self.advance(0.01)
        self.apply(deliver(self.core, SlotGaveUp(key, "sandbox error: loader missing"), self.now))
        self.running.discard(key)
        assert key not in self.core.leases

    @precondition(lambda self: self.core.state == "up")
    @rule(data=st.data(), status=st.sampled_from(["accepted", "duplicate", "stale", "failed"]))
    def hub_acks(self, data, status):
        finished = sorted(k for k, le in self.core.leases.items() if le.state is LeaseState.FINISHED)
        if not finished:
            return
        keys = data.draw(st.lists(st.sampled_from(finished), unique=True, min_size=1))
        self.advance(0.01)
        self.apply(self.core.on_message(
            msg(MsgType.ACK, {"results": [[f, a, status] for f, a in keys]}), self.now))
        self.acked.update(keys)
        assert not set(keys) & set(self.core.leases)

    @precondition(lambda self: self.core.state == "up" and self.core.leases)
    @rule(data=st.data())
    def hub_cancels(self, data):
        key = data.draw(st.sampled_from(sorted(self.core.leases)))
        self.advance(0.01)
        self.apply(self.core.on_message(msg(MsgType.CANCEL, {"leases": [list(key)]}), self.now))
        assert key not in self.core.leases

    @precondition(lambda self: self.core.state == "up")
    @rule()
    def hub_forgets_us(self):
        self.apply(self.core.on_message(msg(MsgType.ERROR, {"code": "unknown_worker"}), self.now))
        if self.core.exited:   # shutting down with nothing left to finish: no new session
            assert self.core.draining and self.core.state == "down"
        else:
            assert self.core.state == "hello"

    @rule(paused=st.booleans())
    def seller_load(self, paused):
        self.advance(0.01)
        self.apply(self.core.pause(self.now) if paused else self.core.resume(self.now))

    @precondition(lambda self: not self.core.draining)
    @rule(grace=st.floats(0.1, 2.0))
    def shutdown(self, grace):
        self.apply(self.core.begin_shutdown(self.now, grace))

    @invariant()
    def slots_never_overbooked(self):
        assert len(self.core.running) <= self.slots
        assert self.core.running == self.running or self.core.running <= self.running

    @invariant()
    def credit_never_exceeds_capacity(self):
        if self.core.state == "up":
            assert self.core.active + self.core.credit_out <= self.slots + 6
        assert self.prefetch <= self.core.prefetch <= 6

    @invariant()
    def waiting_count_matches(self):
        waiting = [le for le in self.core.leases.values()
                   if le.state in (LeaseState.FETCHING, LeaseState.QUEUED)]
        assert self.core.waiting == len(waiting)
        assert self.core.waiting_bytes == sum(len(le.input) for le in waiting)
        assert self.core.unacked == sum(1 for le in self.core.leases.values()
                                        if le.state is LeaseState.FINISHED)

    @invariant()
    def retention_bounded(self):
        assert 0 <= self.core.retained_total <= 600
        assert self.core.retained_total == sum(le.retained_bytes for le in self.core.leases.values())

    @invariant()
    def paused_runs_nothing_new(self):
        if self.core.paused:
            assert not any(le.state in (LeaseState.QUEUED, LeaseState.FETCHING)
                           for le in self.core.leases.values())

    @invariant()
    def draining_ends(self):
        # a draining worker with nothing running or unacked has left
        if self.core.draining and not self.core.leases and not self.running:
            self.apply(self.core.tick(self.now))
            assert self.core.exited


CoreMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
TestCoreMachine = CoreMachine.TestCase


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), max_size=60))
def test_idle_detector_alternates(samples):
    d = IdleDetector(30, 1.0, 2.0)
    t, last = 0.0, None
    for dt, load in samples:
        t += dt / 10
        v = d.sample(t, load)
        if v is not None:
            assert v != last       # pause and resume strictly alternate
            assert v == ("pause" if load > 30 else "resume")
            last = v
    assert d.paused == (last == "pause")


def test_message_helper_roundtrip():
    m = msg(MsgType.READY, {"credit": 3})
    assert isinstance(m, Message) and m["credit"] == 3


def test_allotment_a_losing_hub_starts_nothing_and_hands_queued_leases_back():
    """worker/multihub.py's hook: with no share a hub's leases wait or go back; a winning
    hub refills its share as its fragments end."""
    from cpushare_mq.protocol import Feature

    core, _ = joined(slots=2, prefetch=2, features=[Feature.RELEASE_RESETS_CREDIT])
    core.set_allotment(0, None, 0.02)             # best hub with work, no free slot yet
    out = core.on_message(lease_msg([(1, 0), (2, 0), (3, 0)]), 0.03)
    assert not [a for a in out if isinstance(a, Run)]              # waits for its share
    out = core.set_allotment(2, None, 0.04)                        # two slots free up
    assert [a.item.key for a in out if isinstance(a, Run)] == [(1, 0), (2, 0)]
    out = core.end((1, 0), 1, "0" * 64, 0, OK, b"", 0.05)
    assert [a.item.key for a in out if isinstance(a, Run)] == [(3, 0)]   # refills its share
    out = core.set_allotment(0, 0, 0.06)          # a better hub has work: this one loses
    assert not sends(out, MsgType.READY)
    core.on_message(lease_msg([(4, 0)]), 0.07)     # on credit it had asked before
    out = core.set_allotment(0, 0, 0.08)
    released = sends(out, MsgType.RELEASE)
    assert released and released[0].body["leases"] == [[4, 0]]
    assert released[0].body["reason"] == "another hub pays more"
    out = core.end((2, 0), 1, "0" * 64, 0, OK, b"", 0.09)
    assert not [a for a in out if isinstance(a, Run)] and not sends(out, MsgType.READY)
    check_wire(out)


def test_prefetch_of_runs_that_take_no_time_is_the_maximum():
    """Runs ending at the start time (a coarse clock) drive the moving average towards 0;
    the prefetch is then its maximum, never an overflow (int(inf) used to raise after a few
    thousand such runs)."""
    from cpushare_mq.worker.prefetch import Prefetch

    pace = Prefetch(slots=2, prefetch=2, max_prefetch=256, queue_window_s=0.02)
    for _ in range(5000):
        pace.note_run_time(0.0, 0.0)
    assert pace.leases == 256
    assert pace.for_run_time(5e-324) == pace.for_run_time(0.0) == 256
    assert pace.for_run_time(1.0) == 2
