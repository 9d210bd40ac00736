"""``cpushare-cc``: gcc with the flags and libraries of a sandbox program.

The program kit (``c/build/kit`` in a checkout, ``cpushare_mq/_bin/kit`` in an installed
package) holds the headers, the code-generation flags (``cflags``, written from
``c/common.mk``), the link flags (``ldflags``) and the libraries. This wrapper adds them to
the user's gcc command line::

    cpushare-cc -O2 -o prog.elf prog.c            # a C program: main(argc, argv), stdio, malloc
    cpushare-cc --heap 512M -o big.elf big.c      # a larger malloc arena (default 256M)
    cpushare-cc -c part.c && cpushare-cc -o prog.elf part.o main.o

Programs that drive the ABI v1 frames themselves (``#include "rt.h"``, ``int main(void)``
calling ``rt_abi_next``) are linked the same way: the start-up code notices that the program
uses the frames and hands it the process instead of running ``main`` once per fragment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import CpushareError, NativeBuildError
from .native import find_binary

DEFAULT_HEAP_BYTES = 256 << 20
HEAP_SYMBOL = "cpushare_heap"
_SIZE = re.compile(r"(\d+)([kmg]?)(?:i?b)?", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_NO_LINK = {"-c", "-S", "-E", "-M", "-MM", "-fsyntax-only"}

USAGE = """usage: cpushare-cc [--heap SIZE] [--print-kit] GCC-ARGUMENTS...

Compile and link a program for the cpushare sandbox (static x86-64 ELF, no OS).
  --heap SIZE    bytes of the program's malloc arena, e.g. 64M, 1G (default 256M); inputs
                 (the shared input and one fragment) are kept in it too. It is bss: it costs
                 address space under the seller's memory cap, RAM only where touched.
  --print-kit    print the kit directory (headers, flags, libraries) and exit
Every other argument goes to gcc unchanged.

examples:
  cpushare-cc -O2 -o prog.elf prog.c
  cpushare-cc -O2 -c a.c && cpushare-cc -o prog.elf a.o b.c
  cpushare-cc --heap 1G -O2 -o big.elf big.c
"""


class CcError(CpushareError):
    """A bad cpushare-cc command line or a missing kit."""


def parse_heap(text: str) -> int:
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise CcError(f"--heap {text!r} is not a size (examples: 65536, 64M, 1G)")
    n = int(m.group(1)) * _UNITS[m.group(2).lower()]
    if n < (1 << 20) or n > (32 << 30):
        raise CcError(f"--heap {text!r} must be between 1M and 32G")
    return n


def kit_dir() -> Path:
    try:
        return find_binary("kit/cflags").parent
    except NativeBuildError as exc:
        raise CcError(f"the program kit is missing: {exc}") from exc


def split_args(argv: list[str]) -> tuple[int, bool, list[str]]:
    heap, print_kit, rest = DEFAULT_HEAP_BYTES, False, []
    it = iter(argv)
    for a in it:
        if a == "--heap":
            value = next(it, None)
            if value is None:
                raise CcError("--heap needs a size, e.g. --heap 64M")
            heap = parse_heap(value)
        elif a.startswith("--heap="):
            heap = parse_heap(a.split("=", 1)[1])
        elif a == "--print-kit":
            print_kit = True
        else:
            rest.append(a)
    return heap, print_kit, rest


def _gcc() -> str:
    cc = os.environ.get("CPUSHARE_GCC") or shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise CcError("no C compiler found: install gcc (e.g. 'apt-get install gcc')")
    return cc


def _gcc_include(cc: str) -> str:
    out = subprocess.run([cc, "-print-file-name=include"], capture_output=True, text=True)
    return out.stdout.strip()


def _heap_archive(cc: str, kit: Path, heap: int, tmp: Path) -> Path:
    """An archive holding the arena: linked only when the C library asks for it."""
    src = tmp / "heap.c"
    src.write_text(
        f"unsigned char {HEAP_SYMBOL}[{heap}ULL] __attribute__((aligned(4096)));\n"
        f"const unsigned long long {HEAP_SYMBOL}_bytes = {heap}ULL;\n")
    obj, lib = tmp / "heap.o", tmp / "libcpushare_heap.a"
    flags = (kit / "cflags").read_text().split()
    subprocess.run([cc, *flags, "-c", str(src), "-o", str(obj)], check=True)
    subprocess.run(["ar", "rcs", str(lib), str(obj)], check=True)
    return lib


def command(cc: str, kit: Path, user: list[str], heap_lib: Path | None) -> list[str]:
    cflags = (kit / "cflags").read_text().split()
    inc = ["-nostdinc", "-isystem", str(kit / "include"), "-isystem", _gcc_include(cc)]
    cmd = [cc, *cflags, *inc, *user]
    if heap_lib is None:
        return cmd
    libs = [str(p) for p in (kit / "lib" / "libc.a", kit.parent / "librt.a") if p.is_file()]
    ldflags = (kit / "ldflags").read_text().split()
    return [*cmd, *ldflags, "-Wl,--start-group", str(heap_lib), *libs, "-lgcc",
            "-Wl,--end-group"]


def run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    heap, print_kit, user = split_args(argv)
    kit = kit_dir()
    if print_kit:
        print(kit)
        return 0
    cc = _gcc()
    links = not any(a in _NO_LINK for a in user)
    with tempfile.TemporaryDirectory(prefix="cpushare-cc-") as tmp:
        heap_lib = _heap_archive(cc, kit, heap, Path(tmp)) if links else None
        return subprocess.run(command(cc, kit, user, heap_lib)).returncode


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except CcError as exc:
        print(f"cpushare-cc: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"cpushare-cc: {exc.cmd[0]} failed (exit {exc.returncode})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
