"""The worker's self-test: run a known program through this machine's own sandbox.

``cpushare-worker`` runs :func:`run_probe` before it joins a hub, and ``cpushare-worker
--self-test`` prints its :class:`ProbeReport`. The probe program (``c/examples/probe.c``)
answers a fragment with a result computed here too, and makes a forbidden system call on
the fragment ``syscall``, which the sandbox must kill. A worker whose sandbox fails either
check never takes work: every fragment it ran would fail (or, worse, run unconfined).
"""

from __future__ import annotations

import hashlib
import math
import platform
import re
import struct
import subprocess
import time
from dataclasses import dataclass, replace

from ..errors import CpushareError, NativeBuildError
from ..native import find_binary
from ..outcome import Outcome
from .limits import SandboxLimits

PROBE_PROGRAM = "examples/probe.elf"
PROBE_SHARED = b"cpushare sandbox probe"
PROBE_FRAGMENT = b"the quick brown fox, 0123456789"
PROBE_CPU_S = 10.0
PROBE_WALL_S = 30.0
PROBE_MAX_MEMORY_BYTES = 256 << 20
_FNV_OFFSET, _FNV_PRIME = 14695981039346656037, 1099511628211

ADVICE_BUILD = "build it with 'make -C c' (a checkout) or reinstall cpushare-mq"
ADVICE_REPORT = ("this machine's CPU or kernel is not supported yet: send the output of "
                 "'cpushare-worker --self-test' to the cpushare-mq developers")
ADVICE_SECCOMP = ("programs would run unconfined: do not lend this machine until its kernel "
                  "has seccomp (CONFIG_SECCOMP)")
ADVICE_MEMORY = "give the sandboxes more memory (--max-memory) or free some on this machine"


def expected_answer(shared: bytes, fragment: bytes) -> bytes:
    """What ``probe.elf`` must answer for ``fragment`` (see c/examples/probe.c)."""
    h = _FNV_OFFSET
    for b in shared + fragment:
        h = ((h ^ b) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return fragment[::-1] + struct.pack("<Qd", h, math.sqrt(len(fragment) + 2.0))


@dataclass(frozen=True)
class ProbeCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ProbeReport:
    """What the self-test found. ``cause``/``advice`` are set when it failed."""

    cpu_model: str
    xsave: str             # the loader's extended-state plan (CPUID leaf 0xD), or why unknown
    kernel: str
    seccomp: str
    checks: tuple[ProbeCheck, ...]
    cold_start_s: float | None
    cause: str = ""
    advice: str = ""

    @property
    def ok(self) -> bool:
        return not self.cause and all(c.ok for c in self.checks)

    def failure_line(self) -> str:
        """One line naming the cause and what to do ('' when the probe passed)."""
        if self.ok:
            return ""
        return f"the sandbox self-test failed: {self.cause}; {self.advice}"

    def render(self) -> str:
        cold = "-" if self.cold_start_s is None else f"{self.cold_start_s * 1000:.1f} ms"
        lines = [f"cpu:        {self.cpu_model}",
                 f"xsave:      {self.xsave}",
                 f"kernel:     {self.kernel}",
                 f"seccomp:    {self.seccomp}",
                 f"cold start: {cold}"]
        lines += [f"probe:      {'pass' if c.ok else 'FAIL'}  {c.name}: {c.detail}"
                  for c in self.checks]
        lines.append("result:     " + ("pass: this machine can run sandboxed programs" if self.ok
                                       else f"FAIL: {self.failure_line()}"))
        return "\n".join(lines)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def xsave_plan() -> str:
    """The loader's XSAVE plan (``cpushare-xstate``: XCR0, area size from CPUID 0xD...)."""
    try:
        tool = find_binary("cpushare-xstate", build=False)
        out = subprocess.run([str(tool)], capture_output=True, text=True, timeout=10)
    except (NativeBuildError, OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({exc})"
    fields = dict(re.findall(r"(\w+)=(\S+)", out.stdout))
    if out.returncode != 0 or "area_bytes" not in fields:
        return f"unknown (cpushare-xstate: {(out.stderr or out.stdout).strip()[:200]})"
    return (f"{fields['area_bytes']} bytes restored, xcr0={fields.get('xcr0', '?')} "
            f"mask={fields.get('mask', '?')} xfd={fields.get('xfd', '?')}")


def seccomp_state() -> str:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Seccomp:"):
                    return f"supported by the kernel (this process: mode {line.split()[1]})"
    except OSError:
        pass
    return "no Seccomp line in /proc/self/status (kernel without CONFIG_SECCOMP?)"


def run_probe(limits: SandboxLimits | None = None) -> ProbeReport:
    """Run the probe program through the sandbox the worker would use (the loader that
    :func:`find_binary` picks, ``CPUSHARE_NATIVE_DIR`` included) under the seller's
    ``limits`` (the probe's own time and output limits, memory at most its own cap)."""
    info = dict(cpu_model=cpu_model(), xsave=xsave_plan(), kernel=platform.release(),
                seccomp=seccomp_state())
    checks: list[ProbeCheck] = []
    cause = advice = ""
    cold: float | None = None
    try:
        from .runner import Sandbox  # imported late: runner imports this package
        program = find_binary(PROBE_PROGRAM)
        seller = limits or SandboxLimits()
        limits = replace(seller, cpu_s=PROBE_CPU_S, wall_s=PROBE_WALL_S, max_output_bytes=1 << 20,
                         max_memory_bytes=min(seller.max_memory_bytes, PROBE_MAX_MEMORY_BYTES))
        t0 = time.monotonic()
        with Sandbox(program, PROBE_SHARED, limits, idle=False) as sb:
            rec = sb.run(PROBE_FRAGMENT)
            cold = time.monotonic() - t0
            want = expected_answer(PROBE_SHARED, PROBE_FRAGMENT)
            if not rec.ok:
                checks.append(ProbeCheck("known answer", False, f"{rec.outcome.value}: {rec.message}"))
                cause = f"the probe program ended {rec.outcome.value} ({rec.message})"
                advice = ADVICE_MEMORY if rec.outcome is Outcome.BAD_PROGRAM else ADVICE_REPORT
            elif sb.last_output != want:
                checks.append(ProbeCheck("known answer", False,
                                         f"wrong answer (sha256 {_short(sb.last_output)}, "
                                         f"expected {_short(want)})"))
                cause, advice = "the probe program gave a wrong answer", ADVICE_REPORT
            else:
                checks.append(ProbeCheck("known answer", True, f"{len(want)} bytes as expected"))
                rec = sb.run(b"syscall")
                killed = rec.outcome is Outcome.FORBIDDEN_SYSCALL
                checks.append(ProbeCheck("forbidden system call", killed,
                                         f"{rec.outcome.value}" + (f": {rec.message}" if rec.message else "")))
                if not killed:
                    cause = f"a forbidden system call was not killed (outcome {rec.outcome.value})"
                    advice = ADVICE_SECCOMP
    except NativeBuildError as exc:
        checks.append(ProbeCheck("sandbox available", False, str(exc)))
        cause, advice = f"a compiled part is missing: {exc}", ADVICE_BUILD
    except CpushareError as exc:
        checks.append(ProbeCheck("sandbox starts", False, str(exc)))
        missing = "not available" in str(exc) or "does not exist" in str(exc)
        cause = str(exc) if missing else f"{exc} (loader {_loader_in_use()})"
        advice = ADVICE_BUILD if missing else ADVICE_REPORT
    return ProbeReport(**info, checks=tuple(checks), cold_start_s=cold, cause=cause, advice=advice)


def _loader_in_use() -> str:
    try:
        return str(find_binary("cpushare-loader", build=False))
    except NativeBuildError:
        return "not found"


def _short(data: bytes | None) -> str:
    return hashlib.sha256(data or b"").hexdigest()[:12]


__all__ = ["ProbeCheck", "ProbeReport", "run_probe", "expected_answer",
           "PROBE_PROGRAM"]
