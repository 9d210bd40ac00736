"""cpushare-cc, the program kit's compiler wrapper, as a buyer runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cpushare_mq.native import C_DIR, find_binary
from cpushare_mq.sandbox import Sandbox, SandboxLimits

CC = [sys.executable, "-m", "cpushare_mq.cc"]


def cc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CC, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_frame_program_built_by_cpushare_cc_runs_in_the_sandbox(tmp_path):
    """A program on c/rt that drives the frames itself: same answer as the Makefile's build."""
    r = cc("-O2", "-Wall", "-o", "checksum.elf", str(C_DIR / "examples" / "checksum.c"),
           cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    outs = []
    for prog in (tmp_path / "checksum.elf", find_binary("examples/checksum.elf")):
        with Sandbox(prog, shared_input=b"abc", limits=SandboxLimits(cpu_s=10, wall_s=60)) as sb:
            rec = sb.run(b"fragment")
            assert rec.ok, rec
            outs.append(sb.last_output)
    assert outs[0] == outs[1] and len(outs[0]) == 16


def test_separate_compile_and_link(tmp_path):
    (tmp_path / "a.c").write_text("int twice(int x) { return 2 * x; }\n")
    (tmp_path / "b.c").write_text(
        '#include "rt.h"\nint twice(int);\n'
        "int main(void) { const uint8_t *s, *f; uint32_t n, m;\n"
        "  if (rt_abi_shared(&s, &n)) return 2;\n"
        "  while (rt_abi_next(&f, &m) == 1) { char c = (char)twice(m); rt_abi_data(&c, 1);"
        " rt_abi_end(); }\n  return 0; }\n")
    assert cc("-c", "a.c", cwd=tmp_path).returncode == 0
    r = cc("-O2", "-o", "p.elf", "a.o", "b.c", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with Sandbox(tmp_path / "p.elf", limits=SandboxLimits(cpu_s=10, wall_s=60)) as sb:
        assert sb.run(b"xyz").ok and sb.last_output == bytes([6])


def test_bad_heap_size_is_one_clear_line(tmp_path):
    r = cc("--heap", "lots", "-o", "p.elf", "p.c", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == "cpushare-cc: --heap 'lots' is not a size (examples: 65536, 64M, 1G)"


def test_help_has_examples(tmp_path):
    r = cc("--help", cwd=tmp_path)
    assert r.returncode == 0 and "cpushare-cc -O2 -o prog.elf prog.c" in r.stdout


def test_glibc_headers_are_not_used(tmp_path):
    """The kit compiles with -nostdinc: a header the kit lacks is an error, never glibc's."""
    (tmp_path / "p.c").write_text("#include <sys/socket.h>\nint main(void) { return 0; }\n")
    r = cc("-o", "p.elf", "p.c", cwd=tmp_path)
    assert r.returncode != 0 and "sys/socket.h" in r.stderr


def test_kit_works_relocated_like_an_installed_package(tmp_path):
    """The kit is self-contained: copied elsewhere (as in a wheel's _bin/), it still builds
    a C library program that runs in the sandbox."""
    import os
    import shutil

    kit = find_binary("kit/cflags").parent
    bindir = tmp_path / "_bin"
    shutil.copytree(kit, bindir / "kit")
    shutil.copy2(kit.parent / "librt.a", bindir / "librt.a")
    (tmp_path / "hi.c").write_text('#include <stdio.h>\nint main(int argc, char **argv)'
                                   ' { printf("hi %d %.3f\\n", argc, 2.0 / 3); return 0; }\n')
    r = subprocess.run([*CC, "--print-kit"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "CPUSHARE_NATIVE_DIR": str(bindir)})
    assert r.stdout.strip() == str(bindir / "kit")
    r = subprocess.run([*CC, "-O2", "-o", "hi.elf", "hi.c"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "CPUSHARE_NATIVE_DIR": str(bindir)})
    assert r.returncode == 0, r.stderr
    with Sandbox(tmp_path / "hi.elf", limits=SandboxLimits(cpu_s=10, wall_s=60)) as sb:
        assert sb.run(b"").ok and sb.last_output == b"hi 1 0.667\n"


def test_the_example_of_writing_a_program_in_docs_builds_and_runs(tmp_path):
    """docs/sandbox.md "Writing a program": its C block, built with cpushare-cc, answers a
    fragment with its bytes and refuses an empty one ('X' -> fragment_error)."""
    doc = (C_DIR.parent / "docs" / "sandbox.md").read_text()
    section = doc.split("## Writing a program", 1)[1]
    (tmp_path / "prog.c").write_text(section.split("```c\n", 1)[1].split("```", 1)[0])
    r = cc("-O2", "-Wall", "-o", "prog.elf", "prog.c", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with Sandbox(tmp_path / "prog.elf", limits=SandboxLimits(cpu_s=10, wall_s=60)) as sb:
        rec = sb.run(b"hello")
        assert rec.ok and sb.last_output == b"hello", rec
        rec = sb.run(b"")
        assert rec.outcome.value == "fragment_error" and "empty fragment" in rec.message, rec
