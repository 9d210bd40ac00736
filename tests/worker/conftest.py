"""Fixtures shared by the worker tests."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cpushare_mq.native import C_DIR, find_binary

from .fakes import Running


@pytest.fixture(scope="session")
def spin_elf(tmp_path_factory) -> Path:
    """tests/worker/progs/spin.c linked against the sandbox runtime (a CPU-bound program)."""
    find_binary("librt.a")
    out = tmp_path_factory.mktemp("progs") / "spin.elf"
    vars_ = subprocess.run(["make", "-s", "-p", "-C", str(C_DIR / "examples"), "-n"],
                           capture_output=True, text=True).stdout
    flags = {}
    for name in ("FREE_CFLAGS", "FREE_LDFLAGS", "BUILD"):
        m = re.search(rf"^{name} := (.*)$", vars_, re.M)
        assert m, f"{name} not found in c/common.mk"
        flags[name] = m.group(1).split()
    src = Path(__file__).parent / "progs" / "spin.c"
    subprocess.run(["cc", *flags["FREE_CFLAGS"], str(src), "-o", str(out), *flags["FREE_LDFLAGS"],
                    f"{flags['BUILD'][0]}/librt.a"], check=True)
    return out


@pytest.fixture
def cleanup():
    """Things to stop after the test: Running agents (shut down twice: forced) and fakes."""
    items = []
    yield items
    for it in reversed(items):
        if isinstance(it, Running):
            if it.thread.is_alive():
                it.agent.request_shutdown()
                it.agent.request_shutdown()
                it.thread.join(10)
        else:
            it.stop()
