"""The scheduler core is sealed (issue 20): the shell talks to it through its public methods
and the frozen records they return, never through the core's own objects.

Statically: no module outside ``hub/scheduler/`` imports the core's private records, and the
hub's shells use nothing of a core but its public methods. At run time: the scheduler state
machine (tests/hub/machine.py) checks after every step that the effects and leases it got
hold frozen records and plain values only (``sealcheck.assert_sealed``: NamedTuples count as tuples); here one lease's
life is checked the same way, and the records refuse to change."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from pathlib import Path

import pytest
from memstore import MemStore
from sealcheck import assert_sealed

from cpushare_mq.hub.scheduler import HubConfig, JobSpec, Scheduler

PKG = Path(__file__).resolve().parents[2] / "cpushare_mq"
CORE_DIR = PKG / "hub" / "scheduler"
PUBLIC = {n for n in dir(Scheduler) if not n.startswith("_") and callable(getattr(Scheduler, n))}


def _shell_modules():
    for path in sorted(PKG.rglob("*.py")):
        if CORE_DIR not in path.parents:
            yield path


def _is_core(node: ast.expr) -> bool:
    """``core``, ``self.core``, ``hub._core``: how the hub's modules name their scheduler."""
    return ((isinstance(node, ast.Name) and node.id == "core")
            or (isinstance(node, ast.Attribute) and node.attr in ("core", "_core")))


def test_no_module_outside_the_core_imports_its_private_records():
    bad = []
    for path in _shell_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and "scheduler" in node.module:
                names = [a.name for a in node.names]
                if node.module.endswith(("records", "lifecycle")) or any(
                        n.startswith("_") for n in names):
                    bad.append(f"{path.relative_to(PKG)}:{node.lineno}: {node.module} {names}")
    assert not bad, bad


def test_the_hubs_shells_use_only_public_methods_of_the_core():
    bad = []
    for path in _shell_modules():
        if path.relative_to(PKG).parts[0] not in ("hub", "trust"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and _is_core(node.value)
                    and node.attr not in PUBLIC):
                bad.append(f"{path.relative_to(PKG)}:{node.lineno}: core.{node.attr}")
    assert not bad, bad


def test_one_lease_life_hands_out_frozen_records_only():
    store, core, now = MemStore(), Scheduler(HubConfig()), 100.0
    core.add_job(store.add_job(JobSpec(program=b"p", fragments=[b"a", b"b"]), now))
    for job_id, after, limit in core.refill_requests():
        core.add_pending(job_id, store.pending(job_id, after, limit), limit)
    core.join(now, "w1", key="k1", slots=2)
    core.ready(now, "w1", 2)
    grants = core.assign(now)
    assert_sealed(grants)
    (job, fid, _index, attempt, _lease_s), other = grants["w1"]
    assert_sealed(core.job_of(fid, attempt))
    fx = core.take_effects()
    assert_sealed(fx)
    store.apply(fx.journal, now)
    assert core.result(now, "w1", fid, attempt, hashlib.sha256(b"r").hexdigest(), 1) == "accepted"
    core.leave(now, "w1")
    fx = core.take_effects()
    assert_sealed(fx)
    assert_sealed(core.worker_records())
    (change,) = [f for f in fx.journal.frags if f.fid == fid]
    assert change.state == "DONE" and change.old == "LEASED" and change.job_id == job.id
    for record in (job, fx.journal, fx, fx.journal.workers[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, dataclasses.fields(record)[0].name, None)
    with pytest.raises(AttributeError):     # (a NamedTuple: the hot path's record)
        change.state = "PENDING"
    store.apply(fx.journal, now)
    assert store.frags[fid]["state"] == "DONE" and store.frags[other[1]]["state"] == "PENDING"
