"""The market's end-to-end tests share one set of processes per test: a hub with a ledger,
workers and the buyer's commands in a short temporary directory (test_ledger_e2e.LedgerProcs)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from .test_ledger_e2e import LedgerProcs


@pytest.fixture
def ledger_procs():
    root = Path(tempfile.mkdtemp(prefix="cpsm-"))     # short: the hub's Unix socket path
    ps = LedgerProcs(root)
    try:
        yield ps
    finally:
        ps.close()
        shutil.rmtree(root, ignore_errors=True)
