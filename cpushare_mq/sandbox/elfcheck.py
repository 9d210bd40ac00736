"""Pure check of a program against the loader's rules (``cpushare check``), without running it.

:func:`check_program` applies the rules ``c/loader/loader.c`` applies before mapping a
program (ELF identity, x86-64 static ``ET_EXEC``, ``PT_LOAD`` sizes, addresses, W^X, no
shared pages, entry point, memory need) and adds what the loader only finds out at run time:
a program linked with glibc (or another libc) makes system calls seccomp STRICT kills, and a
program with thread-local storage (``PT_TLS``) finds no FS base. Each :class:`Problem` names
what is wrong and how to fix it. The loader stays the authority: a program this check passes
can still fail on a worker (e.g. an inline ``syscall``), one it refuses never runs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PAGE = 4096
MAX_PHNUM = 64
MIN_VADDR = 0x10000
MAX_VADDR = 0x500000000000                 # below the loader's own memory (loader.c)
STACK_BYTES = 8 << 20                      # the loader's default stack
LOADER_RESERVE_BYTES = 2 << 20             # the loader itself, resident while it loads
DEFAULT_MAX_MEMORY_BYTES = 1 << 30         # cpushare-worker's default --max-memory
MAX_PROGRAM_BYTES = 64 << 20               # one BLOB frame (protocol.Limits.MAX_PROGRAM_BYTES)

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_TLS = 1, 2, 3, 7
PF_X, PF_W = 1, 2
ET_EXEC, ET_DYN = 2, 3
EM_X86_64 = 62

BUILD_HINT = ("build it with 'cpushare-cc prog.c -o prog.elf' (freestanding, static, linked with the "
              "cpushare runtime; see docs/sandbox.md)")

#: byte strings that only a C library's startup code carries, and the library they name
LIBC_MARKS = ((b"__libc_start_main", "glibc"), (b"GLIBC_", "glibc"), (b"__libc_start_call_main", "glibc"))

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")


@dataclass(frozen=True)
class Problem:
    """One reason the sandbox would refuse or kill the program, and how to fix it."""

    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}; {self.fix}"


@dataclass(frozen=True)
class Report:
    """The verdict: ``problems`` empty means the loader would map and start the program."""

    problems: tuple[Problem, ...]
    memory_bytes: int = 0          # segments + stack + guard + trampoline page
    segments: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _looks_like_text(data: bytes) -> bool:
    head = data[:512]
    return bool(head) and all(b in b"\t\n\r" or 32 <= b < 127 or b >= 128 for b in head)


def _not_elf(data: bytes) -> Problem:
    if data.startswith(b"#!"):
        first = data.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
        return Problem(f"a script ({first!r}), not a program", f"workers run x86-64 machine code only; {BUILD_HINT}")
    if _looks_like_text(data):
        return Problem("a text file, not a program (no \\177ELF magic)",
                       f"if this is C source, {BUILD_HINT}")
    return Problem("not an ELF file (no \\177ELF magic)", BUILD_HINT)


def _check_ident(data: bytes) -> Problem | None:
    if len(data) < 4 or data[:4] != b"\x7fELF":
        return _not_elf(data)
    if len(data) < _EHDR.size:
        return Problem(f"truncated ELF header ({len(data)} bytes)", "the file is cut short; build it again")
    if data[4] != 2:
        return Problem("a 32-bit program", f"workers run 64-bit x86-64 programs; {BUILD_HINT}")
    if data[5] != 1:
        return Problem("not a little-endian ELF", BUILD_HINT)
    if data[6] != 1:
        return Problem(f"unknown ELF version {data[6]}", BUILD_HINT)
    if data[7] not in (0, 3):
        return Problem(f"unsupported ELF OS ABI {data[7]}", BUILD_HINT)
    return None


def _check_header(data: bytes) -> tuple[Problem | None, tuple]:
    eh = _EHDR.unpack_from(data)
    _ident, e_type, e_machine, e_version, e_entry, e_phoff, _sh, _fl, _eh, e_phentsize, e_phnum = eh[:11]
    if e_machine != EM_X86_64:
        return Problem(f"not an x86-64 program (e_machine={e_machine})", BUILD_HINT), eh
    if e_type == ET_DYN:
        return Problem("position-independent (ET_DYN: a PIE or shared object)",
                       f"link with -static -no-pie (or {BUILD_HINT})"), eh
    if e_type != ET_EXEC:
        return Problem(f"not an executable (e_type={e_type}; an object file?)", f"link it; {BUILD_HINT}"), eh
    if e_version != 1:
        return Problem(f"unknown ELF version {e_version}", BUILD_HINT), eh
    if e_phentsize != _PHDR.size or not 1 <= e_phnum <= MAX_PHNUM:
        return Problem(f"bad program header table ({e_phnum} entries of {e_phentsize} bytes)", BUILD_HINT), eh
    if e_phoff > len(data) or e_phnum * _PHDR.size > len(data) - e_phoff or e_phoff % 8:
        return Problem("program header table outside the file (truncated ELF?)", "build it again"), eh
    return None, eh


def _check_load(i: int, ph: tuple, size: int) -> Problem | None:
    _t, flags, offset, vaddr, _pa, filesz, memsz, _al = ph
    if filesz > memsz:
        return Problem(f"segment {i}: file size 0x{filesz:x} > memory size 0x{memsz:x}", BUILD_HINT)
    if offset > size or filesz > size - offset:
        return Problem(f"segment {i}: file bytes outside the file (truncated ELF?)", "build it again")
    if vaddr < MIN_VADDR or vaddr >= MAX_VADDR or memsz > MAX_VADDR - vaddr:
        return Problem(f"segment {i}: address range 0x{vaddr:x}+0x{memsz:x} outside "
                       f"[0x{MIN_VADDR:x}, 0x{MAX_VADDR:x})", f"use the runtime's linker script; {BUILD_HINT}")
    if flags & PF_W and flags & PF_X:
        return Problem(f"segment {i} is both writable and executable", f"do not link with -N/--omagic; {BUILD_HINT}")
    return None


def _segments(data: bytes, phoff: int, phnum: int) -> tuple[list[Problem], list[tuple]]:
    problems: list[Problem] = []
    loads = []
    for i in range(phnum):
        ph = _PHDR.unpack_from(data, phoff + i * _PHDR.size)
        kind = ph[0]
        if kind == PT_INTERP:
            problems.append(Problem("dynamically linked (has an interpreter, PT_INTERP)",
                                    f"link with -static; better: {BUILD_HINT}"))
        elif kind == PT_DYNAMIC:
            problems.append(Problem("dynamically linked (has PT_DYNAMIC)", f"link with -static; better: {BUILD_HINT}"))
        elif kind == PT_TLS:
            problems.append(Problem("uses thread-local storage (PT_TLS): the sandbox clears the FS base, so "
                                    "the first TLS access crashes", f"drop __thread variables and the C library; {BUILD_HINT}"))
        elif kind == PT_LOAD and ph[6]:
            bad = _check_load(i, ph, len(data))
            if bad is not None:
                problems.append(bad)
            else:
                loads.append(ph)
    return problems, loads


def _layout(loads: list[tuple], entry: int, max_memory_bytes: int) -> tuple[list[Problem], int]:
    if not loads:
        return [Problem("no loadable (PT_LOAD) segment", BUILD_HINT)], 0
    spans = sorted(((ph[3] & ~(PAGE - 1), (ph[3] + ph[6] + PAGE - 1) & ~(PAGE - 1), ph) for ph in loads),
                   key=lambda s: s[0])
    problems = []
    for (_s0, e0, p0), (s1, _e1, p1) in zip(spans, spans[1:], strict=False):
        if s1 < e0:
            problems.append(Problem(f"PT_LOAD segments at 0x{p0[3]:x} and 0x{p1[3]:x} share a page",
                                    f"align segments to pages (-z separate-code); {BUILD_HINT}"))
    if not any(ph[1] & PF_X and ph[3] <= entry < end for _s, end, ph in spans):
        problems.append(Problem(f"entry point 0x{entry:x} is not in an executable segment", BUILD_HINT))
    memory = sum(e - s for s, e, _ph in spans) + STACK_BYTES + 2 * PAGE
    file_bytes = sum((ph[5] + PAGE - 1) & ~(PAGE - 1) for _s, _e, ph in spans)
    memory = max(memory, file_bytes + LOADER_RESERVE_BYTES)
    if memory > max_memory_bytes:
        problems.append(Problem(f"needs {memory} bytes of memory (segments + 8 MiB stack), over the "
                                f"{max_memory_bytes}-byte cap", "make large arrays smaller (allocate from the "
                                "runtime's heap at run time) or expect only sellers with a larger --max-memory"))
    return problems, memory


def _libc(data: bytes) -> Problem | None:
    for mark, lib in LIBC_MARKS:
        if mark in data:
            return Problem(f"linked with {lib} (contains {mark.decode()}): its start-up code makes system "
                           "calls (brk, arch_prctl, ...) that the sandbox kills ('forbidden_syscall' on "
                           "every worker)", f"do not use 'gcc -static' with the C library; {BUILD_HINT}")
    return None


def check_program(data: bytes, max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES) -> Report:
    """Every reason the loader would refuse ``data`` (or the sandbox kill it at start-up)."""
    if len(data) > MAX_PROGRAM_BYTES:
        return Report((Problem(f"{len(data)} bytes, over the {MAX_PROGRAM_BYTES}-byte limit for a program",
                               "move data into the shared input (--shared FILE)"),))
    bad = _check_ident(data)
    if bad is None:
        bad, eh = _check_header(data)
    if bad is not None:
        return Report((bad,))
    problems, loads = _segments(data, eh[5], eh[10])
    more, memory = _layout(loads, eh[4], max_memory_bytes)
    problems += more
    libc = _libc(data)
    if libc is not None:
        problems.append(libc)
    return Report(tuple(problems), memory_bytes=memory, segments=len(loads))
