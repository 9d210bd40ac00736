"""Hostile programs: each attack gets its exact outcome, and nothing gets out."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits, run_raw

from .conftest import frame

FORBIDDEN = [
    "open", "socket", "fork", "clone", "execve", "mmap", "mprotect", "brk", "ptrace",
    "exit_group", "getpid", "int80_open", "x32_write", "x32_open",
]


@pytest.mark.parametrize("attack", FORBIDDEN)
def test_forbidden_system_calls_are_killed_by_seccomp(hostile_elf, quick, attack):
    rec, out = run_raw(hostile_elf, attack.encode(), quick)
    assert rec.outcome is Outcome.FORBIDDEN_SYSCALL, rec
    assert rec.signal == signal.SIGKILL and rec.exit_code is None
    assert out is None


def test_kill_of_the_parent_is_refused_and_the_parent_lives(hostile_elf, quick):
    rec, _ = run_raw(hostile_elf, f"kill {os.getpid()}".encode(), quick)
    assert rec.outcome is Outcome.FORBIDDEN_SYSCALL, rec
    os.kill(os.getpid(), 0)   # still here


def _native(hostile_elf: Path, command: bytes) -> subprocess.CompletedProcess:
    """Run a harmless hostile mode natively, to learn what this kernel supports."""
    return subprocess.run([str(hostile_elf)], input=command, capture_output=True, timeout=30)


def test_32bit_write_is_allowed_like_the_64bit_one(hostile_elf, quick):
    native = _native(hostile_elf, b"int80_write")
    rec, out = run_raw(hostile_elf, b"int80_write", quick)
    if native.returncode == 0:   # kernel with IA32 emulation: strict mode allows write
        assert rec.outcome is Outcome.OK, rec
        assert out == native.stdout == b"written by a 32-bit write"
    else:                        # no IA32 emulation: int 0x80 faults
        assert rec.outcome is Outcome.MEMORY_FAULT, rec


def test_vsyscall_page_call_is_not_a_way_out(hostile_elf, quick):
    maps = Path("/proc/self/maps").read_text()
    rec, _ = run_raw(hostile_elf, b"vsyscall", quick)
    if "[vsyscall]" in maps:
        # emulated vsyscall: the kernel checks it against seccomp, which kills
        assert rec.outcome is Outcome.FORBIDDEN_SYSCALL, rec
    else:
        assert rec.outcome is Outcome.MEMORY_FAULT, rec


def test_rdtsc_traps(hostile_elf, quick):
    native = _native(hostile_elf, b"rdtsc")
    assert native.returncode == 99 and native.stdout.startswith(b"")  # works natively
    rec, out = run_raw(hostile_elf, b"rdtsc", quick)
    assert rec.outcome is Outcome.MEMORY_FAULT and rec.signal == signal.SIGSEGV, rec
    assert out is None


def test_writes_to_fds_2_to_1023_all_fail(hostile_elf, quick, capfd):
    rec, out = run_raw(hostile_elf, b"fds", quick)
    assert rec.outcome is Outcome.OK, rec
    assert out == b"writes that worked: 0"
    captured = capfd.readouterr()
    assert "leak" not in captured.err and "leak" not in captured.out


def test_loader_closes_inherited_fds_and_stderr(hostile_elf, loader, tmp_path):
    """Even when started with a real stderr and an extra open file, nothing reaches them."""
    leak = tmp_path / "leak.txt"
    fd = os.open(leak, os.O_WRONLY | os.O_CREAT, 0o600)
    prog = os.open(hostile_elf, os.O_RDONLY)
    status_r, status_w = os.pipe()
    try:
        proc = subprocess.Popen(
            [str(loader), "--program-fd", str(prog), "--status-fd", str(status_w)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(fd, prog, status_w), env={})
        os.close(status_w)
        try:
            out, err = proc.communicate(b"fds", timeout=30)
        finally:
            proc.kill()
            proc.wait()
        assert os.read(status_r, 100) == b"R"   # started (then closed before seccomp)
    finally:
        os.close(fd)
        os.close(prog)
        os.close(status_r)
    assert proc.returncode == 0
    assert out == b"writes that worked: 0" and err == b""
    assert leak.read_bytes() == b""


def test_stack_holds_nothing_of_the_sellers_environment(hostile_elf, quick, monkeypatch):
    secret = "CPUSHARE_TEST_SECRET_8f1c2e"
    monkeypatch.setenv("SELLER_SECRET", secret)
    rec, out = run_raw(hostile_elf, f"stack_scan {secret}".encode(), quick)
    assert rec.outcome is Outcome.OK, rec
    assert out.startswith(b"argc=0 argv0=0 env0=0 found=0 "), out
    # the scanner does find the needle when it is there (positive control)
    rec, out = run_raw(hostile_elf, f"stack_scan +{secret}".encode(), quick)
    assert rec.outcome is Outcome.OK and b" found=1 " in out, (rec, out)


@pytest.mark.parametrize("attack, outcome, sig", [
    ("write_text", Outcome.MEMORY_FAULT, signal.SIGSEGV),
    ("stack_overflow", Outcome.MEMORY_FAULT, signal.SIGSEGV),
    ("ud2", Outcome.CRASH, signal.SIGILL),
    ("int3", Outcome.CRASH, signal.SIGTRAP),
    ("divzero", Outcome.CRASH, signal.SIGFPE),
])
def test_faults(hostile_elf, quick, attack, outcome, sig):
    rec, out = run_raw(hostile_elf, attack.encode(), quick)
    assert (rec.outcome, rec.signal) == (outcome, sig), rec
    assert out is None


def test_infinite_loop_hits_the_cpu_limit(hostile_elf):
    limits = SandboxLimits(cpu_s=0.3, wall_s=60.0)
    rec, _ = run_raw(hostile_elf, b"loop", limits, idle=False)   # not starved by other load
    assert rec.outcome is Outcome.CPU_LIMIT, rec
    assert 0.25 <= rec.cpu_s < 5.0


def test_infinite_loop_hits_the_wall_limit_first_when_it_is_lower(hostile_elf):
    limits = SandboxLimits(cpu_s=30.0, wall_s=0.3)
    rec, _ = run_raw(hostile_elf, b"loop", limits)
    assert rec.outcome is Outcome.TIMEOUT, rec
    assert rec.wall_s >= 0.3


def test_blocked_signals_and_forged_sigreturn_do_not_escape_the_cpu_limit(hostile_elf, quick):
    chunks: list[bytes] = []
    rec, out = run_raw(hostile_elf, b"sigreturn_loop", SandboxLimits(cpu_s=0.3, wall_s=60),
                       on_chunk=chunks.append, idle=False)
    assert b"".join(chunks) == b"L"   # the forged frame was taken: it runs with signals blocked
    assert rec.outcome is Outcome.CPU_LIMIT, rec


def test_rlimit_cpu_backstop_kills_even_with_signals_blocked(hostile_elf, loader):
    """Without the runner watching, the loader's hard RLIMIT_CPU still ends the loop."""
    prog = os.open(hostile_elf, os.O_RDONLY)
    status_r, status_w = os.pipe()
    try:
        proc = subprocess.Popen(
            [str(loader), "--program-fd", str(prog), "--status-fd", str(status_w),
             "--cpu-limit-s", "1", "--no-idle"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            pass_fds=(prog, status_w), env={})
        os.close(status_w)
        try:
            out, _ = proc.communicate(b"sigreturn_loop", timeout=60)
        finally:
            proc.kill()
            proc.wait()
    finally:
        os.close(prog)
        os.close(status_r)
    assert out == b"L"
    assert proc.returncode == -signal.SIGKILL


def test_endless_output_hits_the_output_limit(hostile_elf, abi_hostile_elf, quick):
    rec, out = run_raw(hostile_elf, b"endless_output", quick)
    assert rec.outcome is Outcome.OUTPUT_LIMIT, rec
    assert rec.output_bytes == quick.max_output_bytes and out is None
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        seen = []
        rec = sb.run(b"o", on_chunk=seen.append)
    assert rec.outcome is Outcome.OUTPUT_LIMIT, rec
    assert sum(map(len, seen)) <= quick.max_output_bytes


def test_huge_bss_is_refused_before_start(echo_elf, quick):
    from cpushare_mq.native import find_binary

    from .test_sandbox_loader import patch_bss
    big = find_binary("hostile/big_bss.elf")     # static char big[64 GiB]
    patched = patch_bss(echo_elf.read_bytes(), 64 << 30)
    for program in (big, patched):
        rec, out = run_raw(program, b"", quick)
        assert rec.outcome is Outcome.BAD_PROGRAM, rec
        assert "over the cap of 1073741824 bytes" in rec.message and out is None
        needs = int(rec.message.split("needs ")[1].split()[0])
        assert needs > 64 << 30


def test_exit_7_after_partial_output_is_not_a_result(abi_hostile_elf, hostile_elf, quick):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        seen: list[bytes] = []
        rec = sb.run(b"x", on_chunk=seen.append)
        assert (rec.outcome, rec.exit_code) == (Outcome.EXIT_CODE, 7), rec
        assert b"".join(seen) == b"partial"     # streamed, but the record says: not a result
        rec = sb.run(b"x")
        assert rec.outcome is Outcome.EXIT_CODE and sb.last_output is None
    rec, out = run_raw(hostile_elf, b"exit 7", quick)
    assert (rec.outcome, rec.exit_code, out) == (Outcome.EXIT_CODE, 7, None)


def test_program_that_never_reads_its_input(quick):
    from cpushare_mq.native import find_binary
    with Sandbox(find_binary("hostile/never_reads.elf"), b"s" * 100_000, quick) as sb:
        rec = sb.run(b"f" * 1_000_000)
    assert (rec.outcome, rec.exit_code) == (Outcome.EXIT_CODE, 0), rec
    assert "before finishing" in rec.message


def test_program_that_stops_reading_mid_input(quick):
    from cpushare_mq.native import find_binary
    with Sandbox(find_binary("hostile/stops_reading.elf"), b"", quick) as sb:
        rec = sb.run(b"f" * 1_000_000)
        assert rec.outcome is Outcome.PROTOCOL_ERROR, rec
        assert "input bytes were read" in rec.message
        assert sb.pid is None   # not reused


@pytest.mark.parametrize("command, outcome, words", [
    (b"Z", Outcome.PROTOCOL_ERROR, "unknown output frame kind 'Z'"),
    (b"e", Outcome.PROTOCOL_ERROR, "'E' frame must be empty"),
    (b"a", Outcome.PROTOCOL_ERROR, "fragment never sent"),
    (b"g", Outcome.OUTPUT_LIMIT, "claims 4294967295 bytes"),
    (b"G", Outcome.PROTOCOL_ERROR, "claims 4294967295 bytes"),
    (b"t", Outcome.EXIT_CODE, "inside a frame"),
    (b"q", Outcome.EXIT_CODE, "before finishing the fragment"),
])
def test_malformed_output_frames(abi_hostile_elf, quick, command, outcome, words):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        rec = sb.run(command)
        assert rec.outcome is outcome, rec
        assert words in rec.message
        assert sb.pid is None
        assert sb.run(b"n ok").ok and sb.last_output == b"n ok"   # a fresh process serves on


def test_oversized_input_frame_is_refused_by_the_runtime(echo_elf, quick):
    """A frame claiming 4 GiB on the program's stdin: the runtime refuses it (exit 2)."""
    data = frame("S") + b"\xff\xff\xff\xffF" + b"x" * 100
    rec, out = run_raw(echo_elf, data, quick)
    assert (rec.outcome, rec.exit_code, out) == (Outcome.EXIT_CODE, 2, None)


def test_fragment_error_carries_the_message_and_keeps_the_process(abi_hostile_elf, quick):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        rec = sb.run(b"X")
        assert rec.outcome is Outcome.FRAGMENT_ERROR
        assert rec.message == "fragment rejected: bad tile"
        pid = sb.pid
        assert sb.run(b"nice").ok and sb.pid == pid


def test_blocking_forever_hits_the_wall_limit(abi_hostile_elf):
    with Sandbox(abi_hostile_elf, limits=SandboxLimits(cpu_s=10, wall_s=0.3)) as sb:
        rec = sb.run(b"b")
    assert rec.outcome is Outcome.TIMEOUT and rec.cpu_s < 0.2, rec
