"""The loader's own memory, the program's memory cap, the OOM killer and what a program can
learn about the machine (issue 13, parts 4 and 5). Each program is in c/examples/hostile/."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq.native import find_binary
from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits, run_raw

PROGRAM_RANGE_END = 0x500000000000      # loader.c MAX_VADDR
INITIAL_SP = 0x500200000000 - 64        # loader.c STACK_TOP, minus the initial frame
RUNS = 3


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def vmhwm_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_loading_a_large_program_never_exceeds_the_memory_cap():
    """A 24 MiB program file under a 40 MiB cap: the loader reads the file's bytes straight
    into the program's segments, so its peak stays under the cap (holding the whole file
    beside them, as it once did, peaked at ~49 MiB)."""
    cap = 40 << 20
    limits = SandboxLimits(cpu_s=10, wall_s=60, max_output_bytes=1 << 20, max_memory_bytes=cap)
    program = find_binary("hostile/big_data.elf")
    assert program.stat().st_size > 24 << 20
    with Sandbox(program, limits=limits, idle=False) as sb:
        rec = sb.run(b"x")
        assert rec.ok, rec
        assert sb.last_output == b"\x03"        # first + last byte of the data arrived
        peak = vmhwm_bytes(sb.pid)             # the process's peak, loader phase included
    assert peak <= cap, f"peak {peak} bytes over the cap of {cap}"
    assert rec.peak_memory_bytes <= cap, rec


def test_the_file_bytes_and_the_loader_count_against_the_cap():
    """Below what the program needs while it is loaded, it is refused before it is read."""
    limits = SandboxLimits(cpu_s=10, wall_s=60, max_output_bytes=1 << 20, max_memory_bytes=24 << 20)
    rec, _ = run_raw(find_binary("hostile/big_data.elf"), b"", limits)
    assert rec.outcome is Outcome.BAD_PROGRAM, rec
    assert "over the cap of" in rec.message, rec


def test_the_oom_killer_takes_the_sandbox_first():
    with Sandbox(find_binary("hostile/big_data.elf"),
                 limits=SandboxLimits(cpu_s=10, wall_s=60, max_memory_bytes=40 << 20)) as sb:
        assert sb.run(b"x").ok
        assert Path(f"/proc/{sb.pid}/oom_score_adj").read_text().strip() == "1000"


def test_a_program_at_the_top_of_the_range_runs_every_time():
    """1 GiB of bss ending exactly at the end of the program range: nothing of the loader is
    ever there, so it runs in every fresh process."""
    limits = SandboxLimits(cpu_s=10, wall_s=60, max_memory_bytes=(1 << 30) + (256 << 20))
    program = find_binary("hostile/far_bss_top.elf")
    for _ in range(RUNS):
        with Sandbox(program, limits=limits, idle=False) as sb:
            rec = sb.run(b"top")
            assert rec.ok, rec
            assert sb.last_output == b"top"


def test_the_verdict_on_a_program_never_depends_on_where_the_loader_landed():
    """1.5 GiB of bss over the window where the kernel puts the (static PIE) loader's brk.
    It was refused as 'overlaps the loader's own memory' (at random, for smaller segments
    there); the range the loader accepts now ends below everything of the loader, so the
    program is refused for its address range, every time, with the same message."""
    limits = SandboxLimits(cpu_s=10, wall_s=60, max_memory_bytes=2 << 30)
    program = find_binary("hostile/far_bss_brk.elf")
    messages = set()
    for _ in range(RUNS):
        rec, _ = run_raw(program, b"", limits)
        assert rec.outcome is Outcome.BAD_PROGRAM, rec
        messages.add(rec.message)
    assert len(messages) == 1, messages
    message = messages.pop()
    assert f"outside [0x10000, {PROGRAM_RANGE_END:#x})" in message, message
    assert "loader" not in message, message


def test_the_initial_stack_is_at_the_same_address_in_every_run(quick):
    """No ASLR value a program could use to tell machines or runs apart."""
    program = find_binary("hostile/stack_addr.elf")
    seen = set()
    for _ in range(RUNS):
        rec, out = run_raw(program, b"", quick)
        assert rec.ok, rec
        seen.add(struct.unpack("<Q", out)[0])
    assert seen == {INITIAL_SP}, [hex(x) for x in seen]


def test_cpuid_faults_where_the_cpu_supports_cpuid_faulting(quick):
    """With CPUID faulting (Intel, recent AMD; "cpuid_fault" in /proc/cpuinfo) a program
    executing cpuid is killed by SIGSEGV: memory_fault. Without it, cpuid answers with the
    real CPU's vendor (documented in docs/sandbox.md, "What still differs")."""
    rec, out = run_raw(find_binary("hostile/cpuid.elf"), b"", quick)
    if "cpuid_fault" in cpu_flags():
        assert rec.outcome is Outcome.MEMORY_FAULT, rec
        assert rec.signal == 11, rec
        assert "cpuid" in rec.message, rec
        assert out is None
    else:
        assert rec.ok, rec
        vendor = out[4:16]
        assert vendor in Path("/proc/cpuinfo").read_bytes(), out


@pytest.mark.parametrize("name", ["far_bss_top", "far_bss_brk", "far_bss_legacy", "big_data"])
def test_the_layout_programs_are_what_the_tests_assume(name):
    """Guards the tests above against a toolchain that lays the programs out differently."""
    elf = find_binary(f"hostile/{name}.elf").read_bytes()
    phoff, phentsize, phnum = struct.unpack_from("<Q", elf, 32)[0], *struct.unpack_from("<HH", elf, 54)
    loads = []
    for i in range(phnum):
        p_type, _flags, _off, vaddr, _pa, filesz, memsz, _al = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1:
            loads.append((vaddr, filesz, memsz))
    if name == "far_bss_top":
        assert (0x4FFFC0000000, 0, 1 << 30) in loads
        assert max(v + m for v, _f, m in loads) == PROGRAM_RANGE_END
    elif name == "far_bss_brk":
        assert (0x555540000000, 0, 0x60000000) in loads   # covers 0x555555554000 + 1 GiB
    elif name == "far_bss_legacy":
        assert (0x2AAAAAA00000, 0, 0x1000000) in loads     # covers 0x2aaaaaaab000 + 11 MiB
    else:
        assert sum(f for _v, f, _m in loads) >= 24 << 20


def test_cpushare_check_applies_the_same_range_and_memory_rules():
    """``cpushare check`` (elfcheck) says before submission what the loader would refuse."""
    from cpushare_mq.sandbox.elfcheck import check_program
    brk = check_program(find_binary("hostile/far_bss_brk.elf").read_bytes(), 2 << 30)
    assert any(f"0x{PROGRAM_RANGE_END:x})" in p.what for p in brk.problems), brk
    top = check_program(find_binary("hostile/far_bss_top.elf").read_bytes(), (1 << 30) + (256 << 20))
    assert not top.problems, top
    big = find_binary("hostile/big_data.elf").read_bytes()
    assert not check_program(big, 40 << 20).problems
    assert any("over the" in p.what for p in check_program(big, 24 << 20).problems)


def test_cpushare_xstate_says_whether_cpuid_faults():
    """What the worker's self-test can show: the kernel's cpuid_fault flag, tried for real."""
    out = subprocess.run([str(find_binary("cpushare-xstate"))], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    fields = dict(f.split("=", 1) for f in out.split())
    assert fields["cpuid_fault"] == ("1" if "cpuid_fault" in cpu_flags() else "0"), out


def _legacy_layout_run(program: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`cpushare-sandbox run PROGRAM` with the legacy bottom-up memory layout and no
    randomisation (`setarch -L -R`): the kernel maps the (static PIE) loader at exactly
    0x2aaaaaaab000, inside the program range."""
    frag = tmp_path / "frag"
    frag.write_bytes(b"legacy")
    cli = Path(sys.executable).parent / "cpushare-sandbox"
    return subprocess.run(["setarch", "x86_64", "-L", "-R", str(cli), "run", str(program),
                           "--input", str(frag)], capture_output=True, timeout=120)


def test_a_legacy_memory_layout_is_the_machines_fault_never_the_programs(echo_elf, tmp_path):
    """Where the loader's own memory is in the way, the program is not judged: the sandbox
    cannot be set up (exit 2, SandboxError, the fragment goes elsewhere), with the cause
    named; programs that do not collide still run there."""
    probe = subprocess.run(["setarch", "x86_64", "-L", "-R", "true"], capture_output=True)
    if probe.returncode != 0:   # e.g. a container's seccomp filter refusing personality()
        pytest.skip(f"this kernel/container refuses setarch -L -R: {probe.stderr!r}")
    ok = _legacy_layout_run(echo_elf, tmp_path)
    assert ok.returncode == 0 and ok.stdout == b"legacy", ok
    collides = _legacy_layout_run(find_binary("hostile/far_bss_legacy.elf"), tmp_path)
    assert collides.returncode == 2, collides              # set-up error, not an outcome
    assert b"overlaps the loader's own memory" in collides.stderr, collides
    assert b"legacy memory layout" in collides.stderr, collides
    assert b"bad_program" not in collides.stderr + collides.stdout, collides
