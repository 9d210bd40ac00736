"""Pipelined slots (real sandbox, fake hub): each slot's sandbox gets its next fragment
while the current one runs. Results and failures stay with their fragments, a cancelled
look-ahead is never reported, and a warm shutdown hands the look-ahead back."""

from __future__ import annotations

import struct
import time

from cpushare_mq.native import find_binary
from cpushare_mq.protocol import MsgType

from .test_agent import new_hub, start


def wait_for(cond, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_results_and_failures_stay_with_their_fragments(cleanup, tmp_path):  # noqa: F811
    prog = find_binary("hostile/abi_hostile.elf").read_bytes()
    frags = []
    for i in range(60):
        frags.append(b"x" if i % 17 == 5 else b"X" if i % 13 == 7 else b"n%d" % i)
    hub = new_hub(cleanup, frags, program=prog)
    w = start(cleanup, hub, tmp_path, factory=None, slots=1)
    assert w.agent.run_positions == 2                       # pipelining is on
    assert hub.wait(lambda: len(hub.results) + len(hub.failures) == len(frags), timeout=60)
    failed = {key[0]: rec for key, rec in hub.failures}
    for i, f in enumerate(frags):
        if f == b"x":
            assert failed[i].outcome.value == "exit_code" and failed[i].exit_code == 7
        elif f == b"X":
            assert failed[i].outcome.value == "fragment_error"
        else:
            assert hub.results[i] == f, i
    assert w.agent.pool.pipelined > 0                       # fragments did go in early
    assert hub.hellos[0]["slots"] == 1                      # the hub sees the real slots
    assert all(n == 1 for n in hub.accepted_count.values())


def test_cancelled_look_ahead_is_never_run_nor_reported(cleanup, tmp_path, spin_elf):  # noqa: F811
    forever = struct.pack("<I", 4_000_000_000) + b"forever"
    quick = [struct.pack("<I", 0) + b"ahead", struct.pack("<I", 0) + b"third"]
    hub = new_hub(cleanup, [forever, *quick], program=spin_elf.read_bytes(),
                  limits=(600.0, 600.0, 1 << 20))
    w = start(cleanup, hub, tmp_path, factory=None, slots=1)
    slot = w.agent.pool.slots[0]
    assert wait_for(lambda: slot.ahead_key is not None and slot.ahead_queued)
    first, ahead = slot.current, slot.ahead_key
    assert (first[0], ahead[0]) == (0, 1)
    hub.cancel(ahead)
    assert wait_for(lambda: slot.ahead_aborted)
    hub.cancel(first)                                       # frees the slot
    assert hub.wait(lambda: 2 in hub.results, timeout=20)
    assert 1 not in hub.results and 0 not in hub.results and hub.failures == []
    assert w.agent.stats()["cancelled"] == 2


def test_warm_shutdown_hands_the_look_ahead_back(cleanup, tmp_path, spin_elf):  # noqa: F811
    long = struct.pack("<I", 8_000_000) + b"long"           # about a second
    hub = new_hub(cleanup, [long, struct.pack("<I", 0) + b"ahead"],
                  program=spin_elf.read_bytes(), limits=(600.0, 600.0, 1 << 20))
    w = start(cleanup, hub, tmp_path, factory=None, slots=1)
    slot = w.agent.pool.slots[0]
    assert wait_for(lambda: slot.ahead_key is not None and slot.ahead_queued)
    w.agent.request_shutdown()
    assert hub.wait(lambda: any(fid == 1 for fid, _ in hub.released), timeout=5)
    w.thread.join(30)
    assert not w.thread.is_alive()
    assert 0 in hub.results and 1 not in hub.results        # the running one finished
    assert hub.wait(lambda: hub.messages(MsgType.BYE))

