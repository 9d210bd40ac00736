"""Pipelining: ``Sandbox.run(fragment, next_fragment=...)`` writes the next fragment behind
the current one. Results stay attributed to their fragments, a failure is the fragment's
the program was working on, and the process is replaced when the queued fragment is not
the one asked for next."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits


def run_pipelined(sb: Sandbox, fragments: list[bytes]) -> list:
    """Run every fragment, each one with the following one queued behind it."""
    out = []
    for i, frag in enumerate(fragments):
        nxt = fragments[i + 1] if i + 1 < len(fragments) else None
        rec = sb.run(frag, next_fragment=(lambda n=nxt: n) if nxt is not None else None)
        out.append((rec.outcome, sb.last_output))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=70_000), min_size=1, max_size=6))
def test_pipelined_echo_gives_every_fragment_its_own_result(echo_elf, fragments):
    with Sandbox(echo_elf, limits=SandboxLimits(cpu_s=5, wall_s=30), idle=False) as sb:
        got = run_pipelined(sb, fragments)
        assert got == [(Outcome.OK, f) for f in fragments]
        assert sb.processes_started == 1


def test_output_read_past_the_end_frame_goes_to_the_next_fragment(echo_elf):
    """A slow consumer: the program answers the queued fragment before the runner reads
    the first one's end frame; those bytes are the second fragment's result."""
    with Sandbox(echo_elf, limits=SandboxLimits(cpu_s=5, wall_s=30), idle=False) as sb:
        chunks: list[bytes] = []

        def slow(b: bytes) -> None:
            chunks.append(b)
            time.sleep(0.2)        # the program answers b"second" meanwhile

        rec = sb.run(b"first", on_chunk=slow, next_fragment=lambda: b"second")
        assert rec.ok and b"".join(chunks) == b"first"
        assert sb._carry, "the second answer should already have been read"
        rec2 = sb.run(b"second")
        assert rec2.ok and sb.last_output == b"second"
        assert sb.processes_started == 1


def test_failure_of_the_queued_fragment_is_its_own(abi_hostile_elf, quick):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        got = run_pipelined(sb, [b"n1", b"x", b"n3", b"X", b"n5"])
        assert got[0] == (Outcome.OK, b"n1")
        assert got[1][0] is Outcome.EXIT_CODE            # 'x': partial output, exit 7
        assert got[2] == (Outcome.OK, b"n3")             # in a fresh process
        assert got[3] == (Outcome.FRAGMENT_ERROR, None)  # 'X' keeps the process
        assert got[4] == (Outcome.OK, b"n5")
        assert sb.processes_started == 2


def test_limits_apply_to_the_queued_fragment(abi_hostile_elf, quick):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        got = run_pipelined(sb, [b"n1", b"l", b"n3"])
        assert got[0] == (Outcome.OK, b"n1")
        assert got[1] == (Outcome.CPU_LIMIT, None)       # endless loop, queued behind n1
        assert got[2] == (Outcome.OK, b"n3")


def test_another_fragment_than_the_queued_one_replaces_the_process(abi_hostile_elf, quick):
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        assert sb.run(b"n1", next_fragment=lambda: b"c\x02").ok
        pid = sb.pid
        rec = sb.run(b"n other")                          # not the queued b"c\x02"
        assert rec.ok and sb.last_output == b"n other"
        assert sb.pid != pid and sb.processes_started == 2


def test_a_program_that_exits_after_each_fragment_still_works(abi_hostile_elf, quick):
    """'k' answers and exits 0 without reading the queued fragment: it runs again in a
    fresh process, as it would have without pipelining."""
    with Sandbox(abi_hostile_elf, limits=quick) as sb:
        got = run_pipelined(sb, [b"k1", b"k2", b"k3"])
        assert got == [(Outcome.OK, b"k1"), (Outcome.OK, b"k2"), (Outcome.OK, b"k3")]
        assert sb.processes_started == 3


def test_next_fragment_is_asked_until_it_gives_one(echo_elf):
    """The caller may learn the next fragment only while the current one runs."""
    asked = []

    def later() -> bytes | None:
        asked.append(len(asked))
        return b"second" if len(asked) == 2 else None

    big = bytes(range(256)) * 800       # 200 KB: more than a pipe holds, several turns
    with Sandbox(echo_elf, limits=SandboxLimits(cpu_s=5, wall_s=30), idle=False) as sb:
        rec = sb.run(big, next_fragment=later)
        assert rec.ok and sb.last_output == big
        assert asked == [0, 1]           # asked again after None, never after it gave one
        assert sb.run(b"second").ok and sb.last_output == b"second"
        assert sb.processes_started == 1
