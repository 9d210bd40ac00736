"""Misbehaviour after the answer is charged to the fragment that did it (issue 13, part 4).

``c/examples/hostile/after_end.c`` answers every fragment properly and then, before reading
the next one, does what the fragment names. A fragment's outcome covers everything the
program does until it is blocked reading its next fragment (cpushare_mq/sandbox/boundary.py).
"""

from __future__ import annotations

import pytest

from cpushare_mq.native import find_binary
from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits
from cpushare_mq.sandbox.frames import FREE_FRAMES

LIMITS = SandboxLimits(cpu_s=0.5, wall_s=60.0, max_output_bytes=64 << 20, max_memory_bytes=1 << 30)

AFTER_ANSWER = [
    (b"syscall", Outcome.FORBIDDEN_SYSCALL, "forbidden system call"),
    (b"crash", Outcome.MEMORY_FAULT, "SIGSEGV"),
    (b"exit3", Outcome.EXIT_CODE, "status 3"),
    (b"spin", Outcome.CPU_LIMIT, "CPU limit"),
    (b"output", Outcome.PROTOCOL_ERROR, "after the fragment's end frame"),
]


@pytest.fixture(scope="module")
def after_end():
    return find_binary("hostile/after_end.elf")


def good(sb: Sandbox, **kw) -> None:
    rec = sb.run(b"good", **kw)
    assert rec.ok, rec
    assert sb.last_output == b"answer:good"


@pytest.mark.parametrize("fragment, outcome, words", AFTER_ANSWER)
def test_failure_after_the_answer_is_that_fragments(after_end, fragment, outcome, words):
    with Sandbox(after_end, limits=LIMITS, idle=False) as sb:
        good(sb)
        rec = sb.run(fragment)
        assert rec.outcome is outcome, rec
        assert words in rec.message and rec.message.startswith("after answering the fragment")
        assert sb.last_output is None                  # its answer is not a result
        good(sb)                                       # the next one: a fresh process, ok
        assert sb.processes_started == 2


# Not "output": with the next fragment written behind, output after 'E' that is read only
# once the program has started reading the next fragment cannot be told from that one's
# output (docs/sandbox.md, "Where a fragment ends").
@pytest.mark.parametrize("fragment, outcome, words", AFTER_ANSWER[:4])
def test_with_look_ahead_the_next_fragment_is_never_charged(after_end, fragment, outcome, words):
    with Sandbox(after_end, limits=LIMITS, idle=False) as sb:
        good(sb, next_fragment=lambda: fragment)
        rec = sb.run(fragment, next_fragment=lambda: b"good")   # 'good' written behind it
        assert rec.outcome is outcome, rec
        good(sb, next_fragment=lambda: b"good")        # never read by the failed process
        good(sb)


def test_exit_0_after_the_answer_is_a_clean_end(after_end):
    with Sandbox(after_end, limits=LIMITS, idle=False) as sb:
        rec = sb.run(b"exit0", next_fragment=lambda: b"good")
        assert rec.ok and sb.last_output == b"answer:exit0"
        good(sb)
        assert sb.processes_started == 2


def test_cpu_after_the_answer_is_charged_to_its_fragment(after_end):
    limits = SandboxLimits(cpu_s=30.0, wall_s=300.0, max_output_bytes=1 << 20)
    with Sandbox(after_end, limits=limits, idle=False) as sb:
        burn = sb.run(b"burn")                          # ~1e9 iterations after 'E'
        after = sb.run(b"good")
        assert burn.ok and after.ok
        assert burn.cpu_s >= 0.1, burn
        assert after.cpu_s < burn.cpu_s / 4, (burn, after)


@pytest.mark.parametrize("fragment", [b"frames0", b"frames1"])
def test_a_million_tiny_frames_are_refused(after_end, fragment):
    with Sandbox(after_end, limits=LIMITS, idle=False) as sb:
        rec = sb.run(fragment)
        assert rec.outcome is Outcome.PROTOCOL_ERROR, rec
        assert "frames for" in rec.message and f"at most {FREE_FRAMES}" in rec.message
        good(sb)
