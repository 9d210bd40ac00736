"""The C library's runtime in the sandbox: main() once per fragment as in a fresh process,
exit status -> outcome, stderr in the message, virtual files, no clocks, the heap flag."""

from __future__ import annotations

import os

import pytest

from .conftest import PROGS, args_fragment, cpushare_cc, run_fragments


@pytest.fixture(scope="module")
def runtime_elf(build_dir):
    cpushare_cc("-O2", "--heap", "16M", "-o", "runtime.elf", str(PROGS / "runtime.c"),
                cwd=build_dir)
    return build_dir / "runtime.elf"


def outs(elf, *fragments, shared=b""):
    return run_fragments(elf, list(fragments), shared)


def test_each_fragment_sees_fresh_globals(runtime_elf):
    res = outs(runtime_elf, *[args_fragment("globals")] * 3)
    assert [o for _, o in res] == [b"counter=1 initialised=8 scratch=0\n"] * 3


def test_exit_status_decides_the_outcome(runtime_elf):
    (ok, out0), (bad, out1), (after, out2) = outs(
        runtime_elf, args_fragment("exit", "0"), args_fragment("exit", "5"), args_fragment("args"))
    assert ok.ok and out0 == b"before exit\natexit ran\n"
    assert bad.outcome.value == "fragment_error" and bad.message == "exit status 5"
    assert after.ok and out2 == b"[program][args][NULL]\n"  # the process stayed warm


def test_abort_and_assert_name_themselves(runtime_elf):
    (a, _), (b, _) = outs(runtime_elf, args_fragment("abort"), args_fragment("assert"))
    assert a.message == "exit status 134: about to abort\nabort()"
    assert b.message.startswith("exit status 134: ")
    assert "main: Assertion `counter == 42' failed." in b.message


def test_heap_size_is_the_link_flag(runtime_elf):
    [(rec, out)] = outs(runtime_elf, args_fragment("oom"))
    assert rec.ok
    megabytes = int(out.split()[0].split(b"=")[1])
    assert 10 <= megabytes < 16 and out.endswith(b"errno=1\n")


def test_only_virtual_files_exist(runtime_elf):
    [(rec, out)] = outs(runtime_elf, args_fragment("files"), shared=b"the shared input")
    assert rec.ok, rec
    assert out == (b"passwd=(nil) enoent=1\nwrite=(nil) erofs=1\n"
                   b"shared=16 'the shared input' eof=1\n")


def test_stdin_to_stdout_in_many_frames(runtime_elf):
    data = os.urandom(300_000)
    [(rec, out)] = outs(runtime_elf, args_fragment("copy", stdin=data))
    assert rec.ok and out == data


def test_no_clock_no_environment_deterministic_rand(runtime_elf):
    res = outs(runtime_elf, args_fragment("nos"), args_fragment("nos"))
    assert res[0][1] == res[1][1]
    assert res[0][1].startswith(b"time=0 clock=0 env=(nil) system=-1\nrand=")


def test_crash_is_a_memory_fault_and_the_next_fragment_runs(runtime_elf):
    (crash, _), (after, out) = outs(runtime_elf, args_fragment("segv"), args_fragment("globals"))
    assert crash.outcome.value == "memory_fault"
    assert after.ok and out == b"counter=1 initialised=8 scratch=0\n"


def test_bad_argv_block_and_oversize_fragment_are_fragment_errors(runtime_elf):
    (bad, _), (big, _), (fine, _) = outs(runtime_elf, b"ARGV\0unterminated",
                                         b"x" * (17 << 20), args_fragment("globals"))
    assert bad.outcome.value == "fragment_error" and "bad ARGV block" in bad.message
    assert big.outcome.value == "fragment_error" and "cpushare-cc --heap" in big.message
    assert fine.ok


def test_argv_that_does_not_fit_the_heap_is_a_fragment_error(runtime_elf):
    many = b"ARGV\0" + b"a\0" * (6 << 20) + b"\0"  # 12 MiB of arguments: 48 MiB of argv
    (big, _), (fine, out) = outs(runtime_elf, many, args_fragment("args", "x"))
    assert big.outcome.value == "fragment_error" and "cpushare-cc --heap" in big.message
    assert fine.ok and out == b"[program][args][x][NULL]\n"
