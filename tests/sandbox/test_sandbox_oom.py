"""A sandbox ended by the machine's OOM killer is the machine's failure (issue 13, part 3)."""

from __future__ import annotations

import pytest

from cpushare_mq.errors import SandboxError
from cpushare_mq.native import find_binary
from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox import Sandbox, SandboxLimits, oom

LIMITS = SandboxLimits(cpu_s=5.0, wall_s=60.0)


def test_oom_kill_count_reads_vmstat(tmp_path):
    f = tmp_path / "vmstat"
    f.write_text("nr_free_pages 1\noom_kill 7\npgfault 9\n")
    assert oom.oom_kill_count(str(f)) == 7
    f.write_text("nr_free_pages 1\n")
    assert oom.oom_kill_count(str(f)) is None
    assert oom.oom_kill_count(str(tmp_path / "missing")) is None
    assert isinstance(oom.oom_kill_count(), int)      # this kernel says (Linux >= 4.13)
    assert oom.killed_by_oom(3, 4) and not oom.killed_by_oom(3, 3)
    assert not oom.killed_by_oom(None, 4) and not oom.killed_by_oom(3, None)


@pytest.mark.parametrize("machine_oom", [False, True])
def test_sigkill_while_the_machine_had_an_oom_kill_is_not_the_programs(monkeypatch, machine_oom):
    counts = iter([10, 11 if machine_oom else 10])
    monkeypatch.setattr(oom, "oom_kill_count", lambda path=oom.VMSTAT: next(counts))
    with Sandbox(find_binary("hostile/after_end.elf"), limits=LIMITS, idle=False) as sb:
        if machine_oom:
            with pytest.raises(SandboxError, match="out-of-memory killer"):
                sb.run(b"syscall")
        else:
            assert sb.run(b"syscall").outcome is Outcome.FORBIDDEN_SYSCALL
