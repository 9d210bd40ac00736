"""Fixtures of the chaos suite: the slow test program, scenes, and a process registry that
kills everything a test started (sandboxes orphaned by SIGKILL included)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from chaoslib import Procs

from cpushare_mq.native import find_binary

HERE = Path(__file__).resolve().parent
SCENES = HERE.parent / "data" / "scenes"


@pytest.fixture(scope="session")
def slow_elf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("chaosprogs")
    subprocess.run(["make", "-s", "-C", str(HERE / "progs"), f"OUT={out}"], check=True)
    return out / "slow.elf"


@pytest.fixture(scope="session")
def scenes() -> Path:
    return SCENES


@pytest.fixture
def procs(tmp_path):
    registry = Procs(tmp_path)
    try:
        yield registry
    finally:
        registry.cleanup()


@pytest.fixture(scope="session")
def povray_bins() -> dict[str, Path]:
    return {"render": find_binary("povray-render"), "client": find_binary("povray-client.elf")}
