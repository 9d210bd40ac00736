"""Real programs from Debian's source packages, unmodified, in the sandbox: zlib's zpipe
(byte-identical to the same code built natively against glibc) and the Lua 5.4 interpreter
(same output as the native interpreter on the same scripts)."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.sandbox import Sandbox

from .conftest import LIMITS, args_fragment

LUA_DIR = Path(__file__).parent / "lua"

payloads = st.binary(max_size=200_000) | st.builds(
    lambda parts, n: b"".join(parts) * n,
    st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=8), st.integers(1, 3000))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(st.lists(payloads, min_size=1, max_size=4))
def test_zlib_round_trips_are_byte_identical_to_native(ports, datas):
    with Sandbox(ports / "zpipe.elf", limits=LIMITS) as sb:
        for data in datas:
            native = subprocess.run([str(ports / "zpipe.native")], input=data,
                                    capture_output=True, timeout=60)
            assert native.returncode == 0
            rec = sb.run(data)
            assert rec.ok, rec
            assert sb.last_output == native.stdout
            assert zlib.decompress(sb.last_output) == data
            rec = sb.run(args_fragment("-d", stdin=native.stdout))
            assert rec.ok, rec
            assert sb.last_output == data


def test_zlib_corrupt_input_is_a_fragment_error(ports):
    with Sandbox(ports / "zpipe.elf", limits=LIMITS) as sb:
        rec = sb.run(args_fragment("-d", stdin=b"not zlib data"))
        assert rec.outcome.value == "fragment_error"
        assert rec.message.startswith("exit status 253: zpipe: invalid or incomplete deflate data")
        assert sb.run(b"still warm").ok


def lua_both(ports: Path, script: Path, args: list[str], stdin: bytes) -> tuple[bytes, bytes]:
    native = subprocess.run([str(ports / "lua.native"), str(script), *args], input=stdin,
                            capture_output=True, timeout=60)
    assert native.returncode == 0, native.stderr
    with Sandbox(ports / "lua.elf", shared_input=script.read_bytes(), limits=LIMITS) as sb:
        rec = sb.run(args_fragment("/cpushare/shared", *args, stdin=stdin))
        assert rec.ok, rec
        # the only difference allowed: the script's name in error messages
        return sb.last_output, native.stdout.replace(str(script).encode(), b"/cpushare/shared")


def test_lua_script_same_output_as_native_interpreter(ports):
    ours, native = lua_both(ports, LUA_DIR / "basics.lua", ["one", "two"], b"from stdin")
    assert ours == native
    assert b"args\t2\tone\ttwo" in ours and b"stdin\t10\tfrom stdin" in ours


def test_lua_without_an_os(ports):
    script = (LUA_DIR / "nosys.lua").read_bytes()
    with Sandbox(ports / "lua.elf", shared_input=script, limits=LIMITS) as sb:
        rec = sb.run(args_fragment("/cpushare/shared"))
        assert rec.ok, rec
        lines = sb.last_output.decode().splitlines()
    assert lines[0] == "0\t0.0\t1970-01-01 00:00:00\tnil"
    assert lines[1] == "nil\t/etc/passwd: No such file or directory\t2"
    assert lines[2] == "nil\t/cpushare/shared: Read-only file system\t30"
    assert lines[3] == "true\tnil\texit\t-1"
    assert lines[4] == "false\t'popen' not supported"
    assert lines[5] == "nil\t/tmp/x: No such file or directory\t2"
    assert lines[6] == "true\t0\t--"
    assert lines[7].startswith("false\tmodule 'socket' not found")


def test_lua_error_is_a_fragment_error_with_the_message(ports):
    with Sandbox(ports / "lua.elf", shared_input=b"error('boom')", limits=LIMITS) as sb:
        rec = sb.run(args_fragment("/cpushare/shared"))
        assert rec.outcome.value == "fragment_error"
        assert rec.message.startswith("exit status 1: program: /cpushare/shared:1: boom")
        rec = sb.run(args_fragment("-e", "print(6*7)"))
        assert rec.ok and sb.last_output == b"42\n"
