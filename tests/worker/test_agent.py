"""The worker agent (real sockets on loopback) against a small fake hub."""

from __future__ import annotations

import random
import struct
import time

import psutil
import pytest

from cpushare_mq.native import find_binary
from cpushare_mq.protocol import MsgType
from cpushare_mq.sandbox import Sandbox
from cpushare_mq.worker.agent import AgentConfig, WorkerAgent
from cpushare_mq.worker.slots import SandboxFactory

from .fakes import FakeHub, FakeSandbox, Running, expected_big, fake_factory


def start(cleanup, hub, tmp_path, factory=fake_factory, **kw):
    sampler = kw.pop("sampler", None)
    cfg = AgentConfig(hub=hub.endpoint, cache_dir=str(tmp_path / "cache"), nice=None,
                      **{"slots": 2, "status_interval_s": 1.0, **kw})
    r = Running(WorkerAgent(cfg, sandbox_factory=factory, load_sampler=sampler))
    cleanup.append(r)
    return r


def _normal_priority_sandbox(program, shared, spec):
    """The real sandbox, kept at normal priority instead of SCHED_IDLE (Sandbox(idle=False))."""
    return Sandbox(program, shared_input=shared, limits=spec.limits(), idle=False)


normal_priority_factory = SandboxFactory(_normal_priority_sandbox, pipelining=True)


def new_hub(cleanup, *a, **kw):
    hub = FakeHub(*a, **kw)
    hub.start()
    cleanup.append(hub)
    return hub


def test_results_stream_and_failures_are_reported(cleanup, tmp_path):
    frags = [b"x%d" % i for i in range(300)] + [b"big:1000000", b"fail", b""]
    hub = new_hub(cleanup, frags, shared=b"S/")
    w = start(cleanup, hub, tmp_path)
    assert hub.wait(lambda: len(hub.results) + len(hub.failures) == len(frags))
    for i in range(300):
        assert hub.results[i] == b"S/" + frags[i]
    assert hub.results[300] == expected_big(0, 1_000_000)
    big_chunks = [m for m in hub.messages(MsgType.RESULT_CHUNK) if m["fragment_id"] == 300]
    assert len(big_chunks) == 3                      # 1 MB = 3 x 256 KiB + the rest in the END
    assert hub.results[302] == b""
    [(key, outcome)] = hub.failures
    assert key[0] == 301 and outcome.outcome.value == "exit_code" and outcome.exit_code == 3
    assert all(n == 1 for n in hub.accepted_count.values())
    w.stop()
    assert hub.wait(lambda: hub.messages(MsgType.BYE))
    assert w.agent.stats()["done"] == 302 and w.agent.stats()["failed"] == 1


def test_small_results_go_out_in_batches_when_the_hub_takes_them(cleanup, tmp_path):
    frags = [b"x%d" % i for i in range(400)] + [b"big:1000000", b"fail", b""]
    hub = new_hub(cleanup, frags, shared=b"S/", features=("result_batch",))
    w = start(cleanup, hub, tmp_path)
    assert hub.wait(lambda: len(hub.results) + len(hub.failures) == len(frags))
    assert hub.hellos[0]["features"] == ["release_resets_credit", "infra_release", "result_batch"]
    assert {i: hub.results[i] for i in range(400)} == {i: b"S/" + frags[i] for i in range(400)}
    assert hub.results[400] == expected_big(0, 1_000_000)
    assert hub.results[402] == b""
    [(key, outcome)] = hub.failures
    assert key[0] == 401 and outcome.exit_code == 3
    assert all(n == 1 for n in hub.accepted_count.values())
    batches = hub.messages(MsgType.RESULT_BATCH)
    singles = hub.messages(MsgType.RESULT_END)
    assert sum(len(b["results"]) for b in batches) + len(singles) == 402
    assert batches and max(len(b["results"]) for b in batches) > 1
    assert len(batches) + len(singles) < 402        # fewer messages than results
    w.stop()
    assert hub.wait(lambda: hub.messages(MsgType.BYE))
    assert w.agent.stats()["done"] == 402 and w.agent.stats()["result_batches"] == len(batches)


def test_no_batches_unless_the_hub_confirms_or_when_switched_off(cleanup, tmp_path):
    frags = [b"y%d" % i for i in range(100)]
    old_hub = new_hub(cleanup, frags)                     # knows no features
    start(cleanup, old_hub, tmp_path)
    assert old_hub.wait(lambda: len(old_hub.results) == 100)
    assert "result_batch" in old_hub.hellos[0]["features"]      # announced, not confirmed
    assert not old_hub.messages(MsgType.RESULT_BATCH)
    assert len(old_hub.messages(MsgType.RESULT_END)) == 100
    hub = new_hub(cleanup, frags, features=("result_batch",))
    start(cleanup, hub, tmp_path, batch_results=False)
    assert hub.wait(lambda: len(hub.results) == 100)
    assert "result_batch" not in hub.hellos[0]["features"]
    assert not hub.messages(MsgType.RESULT_BATCH)


def test_big_result_is_exact(cleanup, tmp_path):
    hub = new_hub(cleanup, [b"big:3000000"])
    start(cleanup, hub, tmp_path)
    assert hub.wait(lambda: 0 in hub.results)
    assert hub.results[0] == expected_big(0, 3_000_000)


def test_cache_second_job_and_restart_fetch_nothing(cleanup, tmp_path):
    hub = new_hub(cleanup, [b"a", b"b"], program=b"P" * 5000, shared=b"shared")
    w = start(cleanup, hub, tmp_path)
    assert hub.wait(lambda: len(hub.results) == 2)
    assert sorted(hub.fetches) == sorted([hub.psha, hub.ssha])   # once each
    with hub.lock:
        hub.fragments += [b"c", b"d"]
        hub.pending += [2, 3]
    assert hub.wait(lambda: len(hub.results) == 4)
    assert len(hub.fetches) == 2                                  # same program: no transfer
    w.stop()
    hub2 = new_hub(cleanup, [b"e"], program=b"P" * 5000, shared=b"shared")
    start(cleanup, hub2, tmp_path)                                # same cache directory
    assert hub2.wait(lambda: len(hub2.results) == 1)
    assert hub2.fetches == []


@pytest.mark.parametrize("features", [(), ("result_batch",)])
def test_hub_restart_resends_held_results_accepted_once(cleanup, tmp_path, features):
    frags = [b"sleep:0.3"] * 6
    # heartbeats every 0.5 s: at 0.1 s (0.3 s of silence tolerated) a busy machine can stall
    # the fake hub long enough for the worker to leave it, and the fake takes the results of
    # a new connection as stale (test_batch_signature failed so in the soak)
    hub = new_hub(cleanup, frags, heartbeat_interval_s=0.5, ack=False,  # never ACKs
                  features=features)
    endpoint = hub.endpoint
    start(cleanup, hub, tmp_path, backoff_initial_s=0.05)
    assert hub.wait(lambda: len(hub.results) >= 2)
    hub.stop()                                                    # the hub dies
    leased, accepted = dict(hub.leased), dict(hub.results)        # what its store would hold
    hub2 = FakeHub(frags, heartbeat_interval_s=0.5, endpoint=endpoint, features=features)
    hub2.leased = {k: None for k in leased}                       # its store remembers leases
    hub2.pending = [i for i in range(6) if i not in accepted and all(k[0] != i for k in leased)]
    hub2.results = dict(accepted)
    hub2.attempt = 100
    hub2.start()
    cleanup.append(hub2)
    assert hub2.wait(lambda: len(hub2.results) == 6, timeout=20)
    hello = hub2.hellos[0]
    assert {tuple(k) for k in hello["held"]} >= set(leased)       # re-announced
    assert all(n == 1 for n in hub2.accepted_count.values())


def test_warm_shutdown_hands_back_unstarted(cleanup, tmp_path):
    first = len(FakeSandbox.instances)
    hub = new_hub(cleanup, [b"sleep:3"] * 8)
    w = start(cleanup, hub, tmp_path, slots=2, prefetch=3)
    assert hub.wait(lambda: len(hub.leased) == 5)
    # two are running (the slots started them; on a busy machine that can come after the
    # leases arrived), three wait
    assert hub.wait(lambda: sum(sb.runs for sb in FakeSandbox.instances[first:]) == 2)
    w.agent.request_shutdown()
    assert hub.wait(lambda: len(hub.released) == 3, timeout=5)
    assert len(hub.results) == 0          # handed back at once, not after the running two
    w.thread.join(10)
    assert not w.thread.is_alive()
    assert hub.wait(lambda: hub.messages(MsgType.BYE))
    assert len(hub.results) == 2                                  # the running two finished


def test_forced_shutdown_releases_running(cleanup, tmp_path):
    hub = new_hub(cleanup, [b"sleep:30"] * 2)
    w = start(cleanup, hub, tmp_path, slots=2, prefetch=0)
    assert hub.wait(lambda: len(hub.leased) == 2)
    time.sleep(0.2)
    w.agent.request_shutdown()
    w.agent.request_shutdown()
    w.thread.join(10)
    assert not w.thread.is_alive()
    assert hub.wait(lambda: len(hub.released) == 2)
    assert all(sb.closed.is_set() for sb in FakeSandbox.instances if sb.runs)


def test_when_idle_pauses_and_resumes(cleanup, tmp_path):
    load = [0.0]
    first = len(FakeSandbox.instances)
    hub = new_hub(cleanup, [b"sleep:0.1"] * 60)
    w = start(cleanup, hub, tmp_path, when_idle=True, idle_pause_after_s=0.5,
              idle_resume_after_s=0.5, idle_sample_s=0.1, sampler=lambda: load[0])
    assert hub.wait(lambda: len(hub.results) >= 2)
    load[0] = 95.0                                                # the owner is busy
    assert hub.wait(lambda: any(p for p, _ in hub.statuses), timeout=5)
    assert w.agent.stats()["paused"]
    assert hub.wait(lambda: hub.released, timeout=5)              # unstarted ones handed back
    time.sleep(0.3)
    n = len(hub.results)
    assert n < 60
    time.sleep(0.7)
    assert len(hub.results) == n                                  # frozen: no progress
    mine = FakeSandbox.instances[first:]
    assert mine and all(sb.paused for sb in mine if not sb.closed.is_set())
    load[0] = 0.0
    assert hub.wait(lambda: any(not p for p, _ in hub.statuses), timeout=5)
    assert hub.wait(lambda: len(hub.results) == 60, timeout=20)


def test_hub_silence_reconnects(cleanup, tmp_path):
    hub = new_hub(cleanup, [b"a"] * 3, heartbeat_interval_s=0.1, send_heartbeats=False)
    w = start(cleanup, hub, tmp_path, backoff_initial_s=0.05)
    assert hub.wait(lambda: len(hub.hellos) >= 3, timeout=10)      # keeps trying, with backoff
    assert w.agent.stats()["reconnects"] >= 2


def test_slow_hub_link_bounds_worker_memory(cleanup, tmp_path):
    n = 100_000_000                                   # 100 MB of incompressible output
    hub = new_hub(cleanup, [b"rand:%d" % n], heartbeat_interval_s=2.0, rcvhwm=2)
    start(cleanup, hub, tmp_path, slots=1)
    assert hub.first_chunk.wait(20)
    hub.reading.clear()                               # the link stalls
    time.sleep(2.0)
    [sb] = [s for s in FakeSandbox.instances if s.produced]
    stalled_at = sb.produced
    time.sleep(0.5)
    assert sb.produced == stalled_at                  # the program is blocked, not buffered
    print(f"produced {stalled_at} bytes before the program blocked")
    assert stalled_at < 48 << 20, f"{stalled_at} bytes produced while the hub read nothing"
    hub.reading.set()
    assert hub.wait(lambda: 0 in hub.results, timeout=60)
    assert hub.results[0] == random.Random(n).randbytes(n)


def test_real_sandbox_echo(cleanup, tmp_path):
    prog = find_binary("examples/echo.elf").read_bytes()
    frags = [b"frag-%d" % i for i in range(200)]
    hub = new_hub(cleanup, frags, program=prog)
    start(cleanup, hub, tmp_path, factory=None)
    assert hub.wait(lambda: len(hub.results) == 200, timeout=30)
    assert all(hub.results[i] == frags[i] for i in range(200))


def test_load_of_other_processes_is_measured(tmp_path):
    """The real sampler (the agent's default): our own CPU use does not count as the owner's."""
    import psutil

    from cpushare_mq.worker.machineload import MachineLoad

    a = WorkerAgent(AgentConfig(hub="tcp://127.0.0.1:9", cache_dir=str(tmp_path), slots=1))
    assert a.load_sampler.__self__.__class__ is MachineLoad
    load = MachineLoad()

    def busy():
        t = psutil.cpu_times()
        return sum(t) - t.idle - t.iowait - t.guest - t.guest_nice, time.monotonic()

    assert load.other_pct() == 0.0                 # first call: a baseline
    b0, t0 = busy()
    c0 = time.process_time()
    # burn a fixed amount of CPU in this (the worker's) process, not a fixed wall time:
    # on a machine whose cores are busy, half a second of wall time may bring us almost
    # no CPU, and then there is nothing of ours to tell apart from the others' load
    while time.process_time() - c0 < 0.3:
        pass
    v = load.other_pct()
    b1, t1 = busy()
    ncpu = psutil.cpu_count()
    total_pct = 100 * (b1 - b0) / ((t1 - t0) * ncpu)
    ours_pct = 100 * (time.process_time() - c0) / ((t1 - t0) * ncpu)
    assert 0.0 <= v <= 100.0
    # whatever else the machine is doing, our own share is not counted as the owner's
    assert v <= total_pct - ours_pct / 2 + 5, (v, total_pct, ours_pct)


def test_misbehaving_programs_are_failures_not_worker_deaths(cleanup, tmp_path):
    prog = find_binary("hostile/abi_hostile.elf").read_bytes()
    frags = [b"n1", b"X", b"Z", b"x", b"q", b"o", b"n2", b"e", b"l", b"n3"]
    # The spinning 'l' must reach its 1 CPU-second before its wall limit (else: timeout,
    # not cpu_limit). A seller's sandboxes run at SCHED_IDLE and get no CPU at all while
    # the machine's cores are busy, so this test (about classifying misbehaviour, not
    # about priority) runs them at normal priority: they get their share under any load.
    hub = new_hub(cleanup, frags, program=prog, limits=(1.0, 30.0, 1 << 20))
    w = start(cleanup, hub, tmp_path, factory=normal_priority_factory)
    assert hub.wait(lambda: len(hub.results) + len(hub.failures) == len(frags), timeout=60)
    assert {i: hub.results[i] for i in (0, 6, 9)} == {0: b"n1", 6: b"n2", 9: b"n3"}
    outcomes = {key[0]: rec.outcome.value for key, rec in hub.failures}
    assert outcomes == {1: "fragment_error", 2: "protocol_error", 3: "exit_code",
                        4: "exit_code", 5: "output_limit", 7: "protocol_error", 8: "cpu_limit"}
    assert w.thread.is_alive() and w.agent.stats()["failed"] == 7


def test_bad_program_is_reported(cleanup, tmp_path):
    hub = new_hub(cleanup, [b"a", b"b"], program=b"#!/bin/sh\necho not an ELF\n")
    w = start(cleanup, hub, tmp_path, factory=None)
    assert hub.wait(lambda: len(hub.failures) == 2, timeout=30)
    assert {rec.outcome.value for _, rec in hub.failures} == {"bad_program"}
    assert w.thread.is_alive()


def test_corrupt_cached_program_is_fetched_again(cleanup, tmp_path):
    prog = find_binary("examples/echo.elf").read_bytes()
    hub = new_hub(cleanup, [b"one", b"two"], program=prog)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / hub.psha).write_bytes(prog[:-1] + b"!")          # same name, wrong bytes
    (cache / hub.ssha).write_bytes(b"")
    start(cleanup, hub, tmp_path, factory=None)
    assert hub.wait(lambda: len(hub.results) == 2, timeout=30)
    assert hub.results == {0: b"one", 1: b"two"}
    assert hub.fetches == [hub.psha]                           # detected, fetched once
    assert (cache / hub.psha).read_bytes() == prog


def test_cancel_kills_the_running_sandbox_and_frees_the_slot(cleanup, tmp_path, spin_elf):
    forever = struct.pack("<I", 4_000_000_000) + b"forever"
    hub = new_hub(cleanup, [forever, struct.pack("<I", 0) + b"next"], program=spin_elf.read_bytes(),
                  limits=(600.0, 600.0, 1 << 20))
    w = start(cleanup, hub, tmp_path, factory=None, slots=1, prefetch=0)
    assert hub.wait(lambda: len(hub.leased) == 1)
    [key] = list(hub.leased)
    deadline = time.monotonic() + 10
    while not w.agent.pool.sandbox_pids() and time.monotonic() < deadline:
        time.sleep(0.02)
    [pid] = w.agent.pool.sandbox_pids()
    hub.cancel(key)
    assert hub.wait(lambda: 1 in hub.results, timeout=20)       # the slot took the next one
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert hub.failures == [] and 0 not in hub.results           # nothing reported for it
    assert w.agent.stats()["cancelled"] == 1


def test_misbehaviour_after_the_answer_is_charged_to_its_fragment_not_the_next(cleanup, tmp_path):
    """Issue 13: a worker slot pipelines (the next fragment is written behind the current
    one); a program that answers and then misbehaves fails *that* fragment, and the next
    one, never read by the failed process, is answered by a fresh one."""
    prog = find_binary("hostile/after_end.elf").read_bytes()
    frags = [b"good", b"syscall", b"good", b"crash", b"good", b"exit3", b"good"]
    hub = new_hub(cleanup, frags, program=prog, limits=(5.0, 60.0, 1 << 20))
    start(cleanup, hub, tmp_path, factory=None, slots=1)
    assert hub.wait(lambda: len(hub.results) + len(hub.failures) == len(frags), timeout=120)
    assert hub.results == {i: b"answer:good" for i in (0, 2, 4, 6)}
    outcomes = {key[0]: rec.outcome.value for key, rec in hub.failures}
    assert outcomes == {1: "forbidden_syscall", 3: "memory_fault", 5: "exit_code"}
    assert all(rec.message.startswith("after answering") for _, rec in hub.failures)
