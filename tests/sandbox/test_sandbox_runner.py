"""The runner: warm reuse, restarts, streaming, limits per fragment, pause/resume, close."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ConfigError, SandboxClosed
from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits, run_raw


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & (2**64 - 1)
    return f"{h:016x}"


def proc_state(pid: int) -> str:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2]


@pytest.fixture(scope="module")
def warm_echo():
    from cpushare_mq.native import find_binary
    sb = Sandbox(find_binary("examples/echo.elf"), limits=SandboxLimits(cpu_s=5, wall_s=30), idle=False)
    yield sb
    sb.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=70_000), max_size=4))
def test_warm_echo_returns_every_fragment_in_one_process(warm_echo, fragments):
    for frag in fragments:
        rec = warm_echo.run(frag)
        assert rec.ok, rec
        assert warm_echo.last_output == frag
        assert rec.output_bytes == len(frag)
    assert warm_echo.processes_started <= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared=st.binary(max_size=5000), fragments=st.lists(st.binary(max_size=3000), min_size=1, max_size=3))
def test_checksum_matches_fnv1a_of_shared_plus_fragment(checksum_elf, shared, fragments):
    with Sandbox(checksum_elf, shared) as sb:
        for frag in fragments:
            assert sb.run(frag).ok
            assert sb.last_output.decode() == fnv1a64(shared + frag)


def test_program_given_as_bytes(echo_elf):
    with Sandbox(echo_elf.read_bytes()) as sb:
        assert sb.run(b"from memory").ok and sb.last_output == b"from memory"


def test_shared_input_of_several_megabytes(abi_hostile_elf):
    shared = os.urandom(5 << 20)
    with Sandbox(abi_hostile_elf, shared) as sb:
        assert sb.run(b"s").ok and sb.last_output == shared
        assert sb.run(b"s").ok and sb.last_output == shared


def test_a_fresh_process_after_a_failure(abi_hostile_elf, quick):
    with Sandbox(abi_hostile_elf, b"shared!", quick) as sb:
        assert sb.run(b"n1").ok
        first = sb.pid
        assert sb.run(b"x").outcome is Outcome.EXIT_CODE
        assert sb.pid is None
        assert sb.run(b"s").ok and sb.last_output == b"shared!"   # new process got 'S' again
        assert sb.pid != first and sb.processes_started == 2


def test_a_process_that_exits_between_fragments_is_replaced(abi_hostile_elf, quick):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        assert sb.run(b"k").ok and sb.last_output == b"k"
        deadline = time.monotonic() + 10
        while sb.pid is not None and proc_state(sb.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sb.run(b"n again").ok and sb.last_output == b"n again"
        assert sb.processes_started == 2


def test_results_stream_in_chunks_while_the_program_runs(abi_hostile_elf):
    limits = SandboxLimits(cpu_s=10, wall_s=30, max_output_bytes=4 << 20)
    calls: list[tuple[int, str]] = []
    with Sandbox(abi_hostile_elf, limits=limits) as sb:
        def on_chunk(b: bytes) -> None:
            calls.append((len(b), proc_state(sb.pid)))
        rec = sb.run(b"o", on_chunk=on_chunk)
    assert rec.outcome is Outcome.OUTPUT_LIMIT
    assert len(calls) > 10 and sum(n for n, _ in calls) <= 4 << 20
    assert calls[0][1] != "Z"    # the first bytes came while the program was still running


def test_cpu_limit_is_per_fragment_in_a_warm_process(abi_hostile_elf):
    limits = SandboxLimits(cpu_s=0.5, wall_s=120)
    burn = b"c" + bytes([4])
    with Sandbox(abi_hostile_elf, limits=limits, idle=False) as sb:   # not starved by load
        first = sb.run(burn)
        assert first.ok
        reps = max(2, int(0.8 / max(first.cpu_s, 0.01)) + 1)   # together well over 0.5 CPU s
        total = first.cpu_s
        for _ in range(reps):
            rec = sb.run(burn)
            assert rec.ok, rec
            total += rec.cpu_s
        assert total > limits.cpu_s and sb.processes_started == 1
        rec = sb.run(b"l")
        assert rec.outcome is Outcome.CPU_LIMIT and 0.45 <= rec.cpu_s < 3, rec


def test_peak_memory_is_reported(abi_hostile_elf):
    with Sandbox(abi_hostile_elf) as sb:
        rec = sb.run(b"m" + bytes([50]))
    assert rec.ok and rec.peak_memory_bytes >= 50 << 20, rec


def test_memory_cap_applies_to_the_programs_bss(abi_hostile_elf):
    # abi_hostile uses the runtime: 2 x 64 MiB of bss
    with Sandbox(abi_hostile_elf, limits=SandboxLimits(max_memory_bytes=100 << 20)) as sb:
        rec = sb.run(b"n")
    assert rec.outcome is Outcome.BAD_PROGRAM and "over the cap" in rec.message


def test_pause_stops_the_process_and_its_wall_clock(echo_elf):
    limits = SandboxLimits(cpu_s=20, wall_s=1.5)
    with Sandbox(echo_elf, limits=limits) as sb:
        assert sb.run(b"warm").ok
        result = {}
        t = threading.Thread(target=lambda: result.update(rec=sb.run(b"after the pause")))
        t0 = time.monotonic()
        sb.pause()
        t.start()
        time.sleep(0.2)
        assert proc_state(sb.pid) == "T"
        time.sleep(1.8)          # longer than wall_s: paused time must not count
        assert t.is_alive()      # a stopped program cannot answer
        sb.resume()
        t.join(30)
        elapsed = time.monotonic() - t0
        assert result["rec"].ok, result["rec"]
        assert sb.last_output == b"after the pause"
    assert result["rec"].wall_s < elapsed - 1.5


def test_pause_and_resume_from_another_thread_never_break_results(echo_elf):
    stop = threading.Event()
    with Sandbox(echo_elf, limits=SandboxLimits(cpu_s=5, wall_s=30), idle=False) as sb:
        def flip() -> None:
            while not stop.is_set():
                sb.pause()
                time.sleep(0.001)
                sb.resume()
                time.sleep(0.003)
        t = threading.Thread(target=flip)
        t.start()
        try:
            for i in range(200):
                rec = sb.run(b"%d" % i)
                assert rec.ok and sb.last_output == b"%d" % i
        finally:
            stop.set()
            t.join()
        assert sb.processes_started == 1


def test_close_from_another_thread_aborts_a_running_fragment(abi_hostile_elf):
    sb = Sandbox(abi_hostile_elf, limits=SandboxLimits(cpu_s=30, wall_s=30))
    assert sb.run(b"n").ok
    pid = sb.pid
    errors = []

    def runner() -> None:
        try:
            sb.run(b"l")
        except SandboxClosed as exc:
            errors.append(exc)

    t = threading.Thread(target=runner)
    t.start()
    time.sleep(0.2)
    sb.close()
    t.join(10)
    assert not t.is_alive() and len(errors) == 1
    assert not Path(f"/proc/{pid}").exists()
    sb.close()   # idempotent
    with pytest.raises(SandboxClosed):
        sb.run(b"n")


def test_close_of_a_paused_sandbox(echo_elf):
    sb = Sandbox(echo_elf)
    assert sb.run(b"x").ok
    pid = sb.pid
    sb.pause()
    sb.close()
    assert not Path(f"/proc/{pid}").exists()


def test_run_raw_collects_or_streams(echo_elf, hostile_elf, quick):
    rec, out = run_raw(hostile_elf, b"ok", quick)
    assert rec.ok and out == b"fine"
    seen: list[bytes] = []
    rec, out = run_raw(hostile_elf, b"ok", quick, on_chunk=seen.append)
    assert rec.ok and out is None and seen == [b"fine"]


@pytest.mark.parametrize("kwargs", [
    {"cpu_s": 0}, {"cpu_s": -1}, {"wall_s": float("nan")}, {"wall_s": float("inf")},
    {"max_output_bytes": 0}, {"max_memory_bytes": 1.5}, {"cpu_s": True},
])
def test_bad_limits_are_config_errors(kwargs):
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        SandboxLimits(**kwargs)


def test_cpu_backstop_leaves_room_for_several_fragments():
    assert SandboxLimits(cpu_s=60).cpu_backstop_s == 240
    assert SandboxLimits(cpu_s=0.3).cpu_backstop_s == 6


def test_an_exception_in_on_chunk_propagates_and_the_sandbox_recovers(echo_elf):
    def boom(_: bytes) -> None:
        raise RuntimeError("consumer failed")

    with Sandbox(echo_elf) as sb:
        assert sb.run(b"a").ok
        first = sb.pid
        with pytest.raises(RuntimeError, match="consumer failed"):
            sb.run(b"b", on_chunk=boom)
        assert sb.pid is None and not Path(f"/proc/{first}").exists()
        assert sb.run(b"c").ok and sb.last_output == b"c"


def test_many_fds_open_in_the_worker_do_not_matter(echo_elf):
    """The runner polls; it never select()s (which breaks on fds above 1023)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = []
    try:
        while len(held) < 1100:
            held.append(os.open("/dev/null", os.O_RDONLY))
        with Sandbox(echo_elf) as sb:
            for i in range(3):
                assert sb.run(b"%d" % i).ok
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_no_fds_or_children_are_left_behind(echo_elf, abi_hostile_elf, hostile_elf, quick):
    fds_before = set(os.listdir("/proc/self/fd"))
    children_before = _children()
    for _ in range(5):
        with Sandbox(echo_elf.read_bytes(), b"s") as sb:
            assert sb.run(b"a").ok
        sb = Sandbox(abi_hostile_elf, limits=quick)
        assert sb.run(b"x").outcome is Outcome.EXIT_CODE     # failed process reaped
        assert sb.run(b"n").ok
        sb.close()
        run_raw(hostile_elf, b"open", quick)
        run_raw(b"junk", b"", quick)
    assert _children() <= children_before   # (a module fixture keeps one warm sandbox)
    assert set(os.listdir("/proc/self/fd")) <= fds_before


def _children() -> set[str]:
    return {p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == os.getpid()}


def _ppid(pid: str) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2:].split()[1])


def _gone_or_zombie(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if proc_state(pid) == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.02)
    return False


def test_sandbox_dies_with_its_worker(abi_hostile_elf, tmp_path):
    """The program has its own session (a kill of the worker's process group misses it), so
    the loader arranges to be killed when the worker dies."""
    import signal
    import subprocess
    import sys
    script = tmp_path / "worker.py"
    script.write_text(
        "import sys, time\n"
        "from cpushare_mq.sandbox import Sandbox, SandboxLimits\n"
        f"sb = Sandbox({str(abi_hostile_elf)!r}, limits=SandboxLimits(cpu_s=600, wall_s=600))\n"
        "assert sb.run(b'n').ok\n"
        "print(sb.pid, flush=True)\n"
        "sb.run(b'l')\n")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    try:
        pid = int(worker.stdout.readline())
        time.sleep(0.2)
        assert proc_state(pid) in "RS"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        assert _gone_or_zombie(pid)
    finally:
        worker.kill()
        worker.wait()
        worker.stdout.close()


def test_a_sandbox_started_by_a_thread_that_ended_lives_on(echo_elf):
    """PR_SET_PDEATHSIG follows the thread that started a process; the runner starts them
    all from one long-lived thread, so a caller thread ending kills nothing."""
    with Sandbox(echo_elf) as sb:
        t = threading.Thread(target=lambda: sb.run(b"from a thread"))
        t.start()
        t.join(30)
        pid = sb.pid
        time.sleep(0.1)
        assert proc_state(pid) in "RS"
        assert sb.run(b"main").ok and sb.last_output == b"main"
        assert sb.pid == pid and sb.processes_started == 1


def xorshift64(iters: int) -> bytes:
    x = 88172645463325252
    for _ in range(iters):
        x ^= (x << 13) & (2**64 - 1)
        x ^= x >> 7
        x ^= (x << 17) & (2**64 - 1)
    return x.to_bytes(8, "little")


def test_spin_example_returns_tag_and_loop_result_and_refuses_a_cut_count():
    """c/examples/spin.c (own _start, no runtime): the CPU-bound program of bench/peers and
    tests/chaos."""
    from cpushare_mq.native import find_binary
    with Sandbox(find_binary("examples/spin.elf"), b"ignored") as sb:
        for iters, tag in [(0, b""), (1, b"t"), (2_000, b"tag-\x00\xff" * 100)]:
            rec = sb.run(iters.to_bytes(8, "little") + tag)
            assert rec.ok, rec
            assert sb.last_output == tag + xorshift64(iters)
        rec = sb.run(b"abc")
        assert rec.outcome is Outcome.FRAGMENT_ERROR
        assert "8-byte iteration count" in rec.message
        assert sb.run((5).to_bytes(8, "little")).ok and sb.last_output == xorshift64(5)
