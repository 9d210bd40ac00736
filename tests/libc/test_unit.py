"""The C library's unit program gives the same output in the sandbox, run natively (the
same ELF, frames on stdin), and built against the host's C library."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import PROGS, cpushare_cc, frame, host_cc, run_fragments


@pytest.fixture(scope="module")
def reference(build_dir) -> bytes:
    host_cc("-O2", "-o", "unit.native", str(PROGS / "unit.c"), "-lm", cwd=build_dir)
    out = subprocess.run([str(build_dir / "unit.native")], capture_output=True, timeout=60)
    assert out.returncode == 0
    return out.stdout


@pytest.mark.parametrize("flags", [["-O2"], ["-O0", "-fno-builtin"]], ids=["O2", "O0-nobuiltin"])
def test_same_output_as_host_libc_in_sandbox_and_native(build_dir, reference, flags):
    elf = build_dir / f"unit{flags[0]}.elf"
    cpushare_cc(*flags, "-o", elf.name, str(PROGS / "unit.c"), cwd=build_dir)
    [(rec, sandboxed)] = run_fragments(elf, [b""])
    assert rec.ok, rec
    assert sandboxed == reference
    native = subprocess.run([str(elf)], input=frame("S") + frame("F"), capture_output=True,
                            timeout=60)
    assert native.returncode == 0
    assert native.stdout == frame("D", reference) + frame("E")
    assert reference.count(b"\n") > 30
