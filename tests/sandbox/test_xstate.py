"""How the loader resets the extended register state, on this CPU and on CPUs we do not have.

The loader restores the XSAVE components to their initial state before it jumps to the
program (nothing the loader computed may survive in vector registers). It must size the
XSAVE area from CPUID leaf 0xD and leave out the components the kernel keeps armed in XFD
(AMX tile data), or it crashes on Intel CPUs with AMX: the landed loader used a fixed 4 KiB
area and restored every component, and every program died with signal 11 on such a machine.

The other CPUs' answers below are the architectural values (Intel SDM vol. 1 table 13-1 and
CPUID leaf 0DH; AMD APM vol. 3, CPUID Fn0000_000D) as those CPUs report them: the size is
the end of the highest enabled component in the standard format.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from cpushare_mq.native import find_binary

X87_SSE_AVX = 0x7
AVX512 = 0xE0  # opmask, ZMM_Hi256, Hi16_ZMM
PKRU = 1 << 9
AMX_TILECFG = 1 << 17
AMX_TILEDATA = 1 << 18


@dataclass(frozen=True)
class Cpu:
    name: str
    osxsave: int
    xcr0: int
    enabled_bytes: int
    xfd: int
    perm_known: int
    perm: int


# Intel Sapphire Rapids / Emerald Rapids (AVX-512 + AMX): TILEDATA (8,192 bytes at 2,816)
# ends at 11,008; Linux enables it in XCR0 but arms it in XFD, and a process is permitted
# it only after ARCH_REQ_XCOMP_PERM.
SAPPHIRE_RAPIDS = Cpu("Intel Sapphire Rapids (AMX)", 1, X87_SSE_AVX | AVX512 | PKRU
                      | AMX_TILECFG | AMX_TILEDATA, 11008, AMX_TILEDATA, 1,
                      X87_SSE_AVX | AVX512 | PKRU | AMX_TILECFG)
# Intel Skylake-SP (AVX-512, PKRU at 2,688 + 8)
SKYLAKE_SP = Cpu("Intel Skylake-SP (AVX-512)", 1, X87_SSE_AVX | AVX512 | PKRU, 2696, 0, 1,
                 X87_SSE_AVX | AVX512 | PKRU)
# AMD Zen 4 (AVX-512 packed after AVX, no MPX hole: PKRU at 2,432 + 8)
ZEN4 = Cpu("AMD Zen 4 (AVX-512)", 1, X87_SSE_AVX | AVX512 | PKRU, 2440, 0, 1,
           X87_SSE_AVX | AVX512 | PKRU)
# AMD Zen 2 / Intel Haswell (AVX2 only)
AVX2_ONLY = Cpu("AVX2 only", 1, X87_SSE_AVX, 832, 0, 1, X87_SSE_AVX)
# An older kernel without ARCH_GET_XCOMP_PERM
OLD_KERNEL = Cpu("kernel without xcomp perm", 1, X87_SSE_AVX | AVX512, 2688, 0, 0, 0)
NO_XSAVE = Cpu("no XSAVE", 0, 0, 0, 0, 0, 0)


@pytest.fixture(scope="module")
def xstate() -> Path:
    return find_binary("cpushare-xstate")


def plan(xstate: Path, cpu: Cpu | None) -> subprocess.CompletedProcess:
    args = [] if cpu is None else [str(v) for v in (cpu.osxsave, hex(cpu.xcr0),
                                                     cpu.enabled_bytes, hex(cpu.xfd),
                                                     cpu.perm_known, hex(cpu.perm))]
    return subprocess.run([str(xstate), *args], capture_output=True, text=True, timeout=30)


def fields(out: str) -> dict[str, int]:
    return {k: int(v, 0) for k, v in (kv.split("=") for kv in out.split())}


@pytest.mark.parametrize("cpu", [SAPPHIRE_RAPIDS, SKYLAKE_SP, ZEN4, AVX2_ONLY, OLD_KERNEL],
                         ids=lambda c: c.name)
def test_the_area_is_as_large_as_the_cpu_says_and_only_usable_components_are_restored(
        xstate, cpu):
    got = fields(plan(xstate, cpu).stdout)
    assert got["use_xrstor"] == 1
    assert got["area_bytes"] >= cpu.enabled_bytes and got["area_bytes"] % 64 == 0
    assert got["mask"] & ~cpu.xcr0 == 0, "never a component the OS did not enable"
    assert got["mask"] & X87_SSE_AVX == X87_SSE_AVX & cpu.xcr0


def test_amx_tile_data_is_left_alone_while_the_kernel_keeps_it_armed_in_xfd(xstate):
    got = fields(plan(xstate, SAPPHIRE_RAPIDS).stdout)
    assert got["area_bytes"] == 11008  # the landed loader reserved 4,096
    assert got["mask"] & AMX_TILEDATA == 0
    assert got["mask"] & AMX_TILECFG  # tile configuration is not XFD-armed: reset it


def test_amx_tile_data_is_reset_once_the_process_was_granted_it(xstate):
    granted = Cpu("AMX granted", 1, SAPPHIRE_RAPIDS.xcr0, 11008, AMX_TILEDATA, 1,
                  SAPPHIRE_RAPIDS.xcr0)
    assert fields(plan(xstate, granted).stdout)["mask"] & AMX_TILEDATA


def test_an_xfd_component_is_left_alone_when_the_kernel_cannot_say_what_is_granted(xstate):
    unknown = Cpu("AMX, no perm", 1, SAPPHIRE_RAPIDS.xcr0, 11008, AMX_TILEDATA, 0, 0)
    assert fields(plan(xstate, unknown).stdout)["mask"] & AMX_TILEDATA == 0


def test_a_cpu_without_xsave_takes_the_legacy_reset(xstate):
    assert fields(plan(xstate, NO_XSAVE).stdout)["use_xrstor"] == 0


@pytest.mark.parametrize("cpu", [
    Cpu("no SSE in XCR0", 1, 0x1, 576, 0, 1, 0x1),
    Cpu("area too small", 1, X87_SSE_AVX, 100, 0, 1, X87_SSE_AVX),
    Cpu("area absurd", 1, X87_SSE_AVX, 1 << 24, 0, 1, X87_SSE_AVX),
], ids=lambda c: c.name)
def test_implausible_answers_fail_closed(xstate, cpu):
    proc = plan(xstate, cpu)
    assert proc.returncode == 1 and "error:" in proc.stdout


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def test_this_machine_real_cpuid(xstate):
    """Whatever CPU runs the suite (Intel with AVX-512/AMX, AMD, older): the plan fits it."""
    proc = plan(xstate, None)
    assert proc.returncode == 0, proc.stdout
    got = fields(proc.stdout)
    flags = cpu_flags()
    if "xsave" not in flags:
        assert got["use_xrstor"] == 0
        return
    assert got["mask"] & ~got["xcr0"] == 0
    assert got["area_bytes"] >= got["enabled_bytes"] >= 576
    assert got["mask"] & got["xfd"] & ~got["perm"] == 0
    if "avx512f" in flags:
        assert got["xcr0"] & AVX512 == AVX512 and got["mask"] & AVX512 == AVX512
        assert got["enabled_bytes"] >= 2432
    if "amx_tile" in flags and got["xcr0"] & AMX_TILEDATA:
        assert got["enabled_bytes"] >= 11008
        assert got["mask"] & AMX_TILEDATA == 0 or got["perm"] & AMX_TILEDATA

