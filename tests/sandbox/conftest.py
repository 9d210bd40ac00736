"""Fixtures of the sandbox tests: the compiled loader, examples and hostile programs."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from cpushare_mq.native import find_binary
from cpushare_mq.sandbox import SandboxLimits


def frame(kind: str, payload: bytes = b"") -> bytes:
    return struct.pack("<IB", len(payload), ord(kind)) + payload


@pytest.fixture(scope="session")
def loader() -> Path:
    return find_binary("cpushare-loader")


@pytest.fixture(scope="session")
def echo_elf() -> Path:
    return find_binary("examples/echo.elf")


@pytest.fixture(scope="session")
def checksum_elf() -> Path:
    return find_binary("examples/checksum.elf")


@pytest.fixture(scope="session")
def hostile_elf() -> Path:
    return find_binary("hostile/hostile.elf")


@pytest.fixture(scope="session")
def abi_hostile_elf() -> Path:
    return find_binary("hostile/abi_hostile.elf")


@pytest.fixture(scope="session")
def quick() -> SandboxLimits:
    """Tight limits so that a misbehaving program costs a fraction of a second."""
    return SandboxLimits(cpu_s=0.3, wall_s=5.0, max_output_bytes=1 << 20, max_memory_bytes=1 << 30)
