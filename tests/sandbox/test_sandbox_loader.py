"""The loader: what it refuses (bad_program), and the state a started program is in."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import SandboxError
from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits, run_raw

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PF_X, PF_W = 1, 1, 2


def phdrs(elf: bytes) -> list[tuple[int, list]]:
    """(offset, fields) of each program header."""
    eh = EHDR.unpack_from(elf)
    phoff, phnum = eh[5], eh[10]
    return [(phoff + i * PHDR.size, list(PHDR.unpack_from(elf, phoff + i * PHDR.size)))
            for i in range(phnum)]


def patch_phdr(elf: bytes, pick, **changes) -> bytes:
    names = ["p_type", "p_flags", "p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz", "p_align"]
    out = bytearray(elf)
    for off, f in phdrs(elf):
        if pick(dict(zip(names, f, strict=True))):
            for k, v in changes.items():
                f[names.index(k)] = v
            PHDR.pack_into(out, off, *f)
            return bytes(out)
    raise AssertionError("no program header matched")


def patch_bss(elf: bytes, memsz: int) -> bytes:
    """Grow the writable segment's memory size (its bss) to ``memsz``."""
    return patch_phdr(elf, lambda p: p["p_type"] == PT_LOAD and p["p_flags"] & PF_W, p_memsz=memsz)


def elf32() -> bytes:
    """A minimal, well-formed 32-bit x86 ELF executable (exit(0) via int 0x80)."""
    code = b"\xb8\x01\x00\x00\x00\x31\xdb\xcd\x80"
    ehdr = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + b"\0" * 9, 2, 3, 1,
                       0x8048054, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0, 0x8048000, 0x8048000, 84 + len(code), 84 + len(code), 5, 0x1000)
    return ehdr + phdr + code


@pytest.fixture(scope="module")
def dynamic_elf(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    d = tmp_path_factory.mktemp("dyn")
    (d / "p.c").write_text("int main(void) { return 0; }\n")
    subprocess.run([cc, "-no-pie", "-o", str(d / "p"), str(d / "p.c")], check=True, timeout=60)
    return d / "p"


REFUSE_LIMITS = SandboxLimits(cpu_s=1, wall_s=5)


def refused(program, limits=REFUSE_LIMITS) -> str:
    rec, out = run_raw(program, b"", limits)
    assert rec.outcome is Outcome.BAD_PROGRAM, rec
    assert out is None
    return rec.message


def test_not_elf():
    assert "not an ELF file" in refused(b"#!/bin/sh\necho hello\n")
    assert "not an ELF file" in refused(b"")


def test_truncated_elf(echo_elf):
    elf = echo_elf.read_bytes()
    assert "truncated ELF" in refused(elf[:40])
    assert "program header table outside the file" in refused(elf[:80])
    # cut inside the text segment: its file bytes are outside the file
    text_off = next(f[2] for _, f in phdrs(elf) if f[0] == PT_LOAD and f[1] & PF_X)
    assert "outside the file" in refused(elf[:text_off + 16])


def test_dynamically_linked(dynamic_elf):
    assert "dynamically linked" in refused(dynamic_elf)


def test_position_independent_is_refused():
    elf = bytearray(Path(shutil.which("true")).read_bytes())
    assert EHDR.unpack_from(elf)[1] == 3, "expected a PIE /bin/true"
    assert "ET_DYN" in refused(bytes(elf))


def test_32bit_elf():
    assert "not a 64-bit ELF" in refused(elf32())


def test_other_machine(echo_elf):
    elf = bytearray(echo_elf.read_bytes())
    struct.pack_into("<H", elf, 18, 183)   # EM_AARCH64
    assert "not an x86-64 program" in refused(bytes(elf))


def test_writable_and_executable_segment(echo_elf):
    elf = patch_phdr(echo_elf.read_bytes(), lambda p: p["p_flags"] & PF_X, p_flags=7)
    assert "writable and executable" in refused(elf)


def test_segment_outside_the_sane_range(echo_elf):
    elf = patch_phdr(echo_elf.read_bytes(), lambda p: p["p_flags"] & PF_W, p_vaddr=0x1000)
    assert "outside" in refused(elf)
    elf = patch_phdr(echo_elf.read_bytes(), lambda p: p["p_flags"] & PF_W, p_vaddr=0x7fff00000000)
    assert "outside" in refused(elf)


def test_overlapping_segments(echo_elf):
    elf = echo_elf.read_bytes()
    text_vaddr = next(f[3] for _, f in phdrs(elf) if f[0] == PT_LOAD and f[1] & PF_X)
    bad = patch_phdr(elf, lambda p: p["p_flags"] & PF_W, p_vaddr=text_vaddr + 8)
    assert "share a page" in refused(bad)


def test_entry_point_outside_executable_memory(echo_elf):
    elf = bytearray(echo_elf.read_bytes())
    struct.pack_into("<Q", elf, 24, 0x10)
    assert "entry point" in refused(bytes(elf))


def test_memory_over_the_sellers_cap(echo_elf):
    msg = refused(echo_elf, SandboxLimits(cpu_s=1, wall_s=5, max_memory_bytes=64 << 20))
    assert "over the cap of 67108864 bytes" in msg
    assert run_raw(echo_elf, b"", SandboxLimits(max_memory_bytes=512 << 20))[0].outcome is not Outcome.BAD_PROGRAM


def test_bad_program_is_remembered_not_retried(quick):
    with Sandbox(b"not an elf", limits=quick) as sb:
        assert sb.run(b"1").outcome is Outcome.BAD_PROGRAM
        assert sb.run(b"2").outcome is Outcome.BAD_PROGRAM
        assert sb.processes_started == 1


def _proc_file(pid: int, name: str) -> str:
    return Path(f"/proc/{pid}/{name}").read_text()


def test_started_program_is_confined(echo_elf, monkeypatch):
    monkeypatch.setenv("SELLER_SECRET", "do-not-leak")
    with Sandbox(echo_elf) as sb:
        assert sb.run(b"warm").ok
        pid = sb.pid
        status = _proc_file(pid, "status")
        assert "\nSeccomp:\t1\n" in status            # strict mode
        assert "\nNoNewPrivs:\t1\n" in status
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        assert sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1"]
        assert os.getsid(pid) == pid                   # its own session
        limits = _proc_file(pid, "limits")
        for name in ("Max core file size", "Max file size"):
            line = next(x for x in limits.splitlines() if x.startswith(name))
            assert line.split()[-3:-1] == ["0", "0"], line
        cpu_line = next(x for x in limits.splitlines() if x.startswith("Max cpu time"))
        assert cpu_line.split()[3] == cpu_line.split()[4] != "unlimited", cpu_line
        maps = _proc_file(pid, "maps").splitlines()
        names = " ".join(maps)
        for gone in ("[vdso]", "[vvar]", "[stack]", "[heap]", "cpushare-loader"):
            assert gone not in names, maps
        elf = echo_elf.read_bytes()
        segs = {(f[3] & ~0xfff) for _, f in phdrs(elf) if f[0] == PT_LOAD}
        starts = {int(line.split("-")[0], 16) for line in maps}
        assert segs <= starts
        # program segments + trampoline + guard + stack (+ [vsyscall], which cannot go)
        others = [m for m in maps if int(m.split("-")[0], 16) not in segs and "[vsyscall]" not in m]
        perms = sorted(m.split()[1] for m in others)
        assert perms == ["---p", "r-xp", "rw-p"], maps
        assert "do-not-leak" not in Path(f"/proc/{pid}/environ").read_bytes().decode("latin-1")


def test_text_is_mapped_read_execute_only(echo_elf):
    with Sandbox(echo_elf) as sb:
        assert sb.run(b"x").ok
        maps = _proc_file(sb.pid, "maps").splitlines()
    elf = echo_elf.read_bytes()
    for _, f in phdrs(elf):
        if f[0] == PT_LOAD:
            line = next(m for m in maps if int(m.split("-")[0], 16) == f[3] & ~0xfff)
            want = ("r" if f[1] & 4 else "-") + ("w" if f[1] & 2 else "-") + ("x" if f[1] & 1 else "-")
            assert line.split()[1][:3] == want, line


def test_loader_refuses_a_stdin_that_is_not_a_pipe(loader, echo_elf, tmp_path):
    status_r, status_w = os.pipe()
    with open(tmp_path / "in", "wb+") as stdin:
        proc = subprocess.run(
            [str(loader), str(echo_elf), "--status-fd", str(status_w)], stdin=stdin,
            stdout=subprocess.PIPE, pass_fds=(status_w,), timeout=30, env={})
    os.close(status_w)
    msg = os.read(status_r, 1000)
    os.close(status_r)
    assert proc.returncode == 126 and msg == b"error: fd 0 is not a pipe (the sandbox only talks over pipes)\n"


def test_loader_usage_errors_name_the_problem(loader):
    proc = subprocess.run([str(loader), "--status-fd", "1", "--max-memory", "lots", "x"],
                          capture_output=True, timeout=30)
    assert proc.returncode == 126
    assert b"option --max-memory: lots is not a number" in proc.stderr + proc.stdout
    proc = subprocess.run([str(loader), "x"], capture_output=True, timeout=30)
    assert proc.returncode == 126 and b"--status-fd N is required" in proc.stderr


def test_missing_loader_is_a_sandbox_error(echo_elf, tmp_path):
    with pytest.raises(SandboxError, match="does not exist"):
        Sandbox(echo_elf, loader=tmp_path / "nope")
    with pytest.raises(SandboxError, match="cannot open the program"):
        run_raw(tmp_path / "missing.elf", b"")


def test_a_loader_that_dies_before_starting_the_program_is_an_error(echo_elf, tmp_path):
    fake = tmp_path / "fake-loader"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with Sandbox(echo_elf, loader=fake) as sb:
        with pytest.raises(SandboxError, match=r"loader ended \(exit status 3\) without starting"):
            sb.run(b"x")
    with pytest.raises(SandboxError, match="without starting"):
        run_raw(echo_elf, b"", loader=fake)


FUZZ_LIMITS = SandboxLimits(cpu_s=0.2, wall_s=2.0, max_output_bytes=1 << 16, max_memory_bytes=256 << 20)


def _check_confined_outcome(program: bytes) -> None:
    rec, _ = run_raw(program, b"\x00\x00\x00\x00S", FUZZ_LIMITS, idle=False)
    # either refused with a message, or it ran and ended with one of the outcomes
    assert isinstance(rec.outcome, Outcome)
    if rec.outcome is Outcome.BAD_PROGRAM:
        assert rec.message
    else:
        assert rec.exit_code is not None or rec.signal is not None or rec.ok or rec.outcome in (
            Outcome.CPU_LIMIT, Outcome.TIMEOUT, Outcome.OUTPUT_LIMIT)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_fuzz_random_bytes_are_refused(blob):
    rec, _ = run_raw(b"\x7fELF" + blob if blob[:1] == b"\x01" else blob, b"", FUZZ_LIMITS)
    assert rec.outcome is Outcome.BAD_PROGRAM and rec.message


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_mutated_elfs_are_refused_or_run_confined(echo_elf, data):
    elf = bytearray(echo_elf.read_bytes())
    header_len = 64 + 56 * EHDR.unpack_from(elf)[10]
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, header_len - 1))
        elf[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        elf = elf[:data.draw(st.integers(0, len(elf)))]
    _check_confined_outcome(bytes(elf))


def test_registers_are_cleared_at_entry(quick):
    """The program starts with nothing of the loader in its registers (regs.elf dumps them)."""
    from cpushare_mq.native import find_binary
    has_avx = " avx " in Path("/proc/cpuinfo").read_text().replace("\n", " ")
    rec, out = run_raw(find_binary("hostile/regs.elf"), b"1" if has_avx else b"0", quick)
    assert rec.ok, rec
    gpr = struct.unpack_from("<16Q", out)
    assert gpr[:15] == (0,) * 15              # rax rbx rcx rdx rsi rdi rbp r8..r15
    assert gpr[15] == 0x202                   # rflags: IF only
    assert out[128:384] == bytes(256)         # xmm0-15
    assert out[384:640] == bytes(256)         # upper halves of ymm0-15
    assert struct.unpack_from("<IH", out, 640) == (0x1F80, 0x37F)   # default MXCSR, x87 CW


def test_fs_base_is_cleared(hostile_elf, quick):
    rec, _ = run_raw(hostile_elf, b"fs_read", quick)
    assert rec.outcome is Outcome.MEMORY_FAULT, rec   # %fs:0 is address 0: unmapped


INTERESTING = st.sampled_from([0, 1, 7, 0xFFF, 0x1000, 0x10000, 0x400000, 0x401000, 2**31,
                               2**32 - 1, 2**47, 0x4FFFFFFFF000, 0x500000000000, 0x600000000000,
                               2**63, 2**64 - 1])
PHDR_FIELDS = ["p_type", "p_flags", "p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz", "p_align"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_program_header_fields(echo_elf, data):
    elf = echo_elf.read_bytes()
    for _ in range(data.draw(st.integers(1, 3))):
        entries = phdrs(elf)
        off, fields = entries[data.draw(st.integers(0, len(entries) - 1))]
        i = data.draw(st.integers(0, 7))
        value = data.draw(INTERESTING | st.integers(0, 2**64 - 1))
        if PHDR_FIELDS[i] in ("p_type", "p_flags"):
            value &= 0xFFFFFFFF
        fields[i] = value
        out = bytearray(elf)
        PHDR.pack_into(out, off, *fields)
        elf = bytes(out)
    _check_confined_outcome(elf)
