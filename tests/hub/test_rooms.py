"""The hub's rooms and the trust layer's talk to each other through public methods and
attributes only (issue 20): no module of cpushare_mq/hub/ or cpushare_mq/trust/ reads
another object's private attribute (``other._x``). The scheduler package has its own,
stricter check (test_core_seal.py). And no room is over the size bar."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "cpushare_mq"
CORE_DIR = PKG / "hub" / "scheduler"
OWN = {"self", "cls"}


def _modules():
    for folder in (PKG / "hub", PKG / "trust"):
        for path in sorted(folder.rglob("*.py")):
            if CORE_DIR not in path.parents:
                yield path


def _private_reads(path: Path, root: Path = PKG) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in OWN:
            continue
        found.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_rooms_read_no_private_attribute_of_another_object():
    bad = [line for path in _modules() for line in _private_reads(path)]
    assert bad == []


def test_the_check_sees_a_private_read(tmp_path):
    p = tmp_path / "room.py"
    p.write_text("def f(hub):\n    return hub.sessions._keys, self._ok, cls._n, x.__class__\n")
    assert [line.split()[-1] for line in _private_reads(p, tmp_path)] == ["hub.sessions._keys"]


ROOMS = ["hub/server.py", "hub/loop.py", "hub/commands.py", "hub/wire.py", "hub/sessions.py",
         "hub/workerdesk.py", "hub/resultdesk.py", "hub/replies.py", "hub/liveness.py",
         "hub/outbound.py", "hub/verdicts.py", "hub/jobwatch.py", "hub/buyerdesk.py",
         "trust/hubside.py", "trust/peerchecks.py", "trust/signatures.py"]


def test_the_hub_and_its_trust_layer_are_rooms_readable_in_one_sitting():
    """No class over 400 lines, no function over 60 (scripts/sizes checks the package)."""
    over = []
    for rel in ROOMS:
        for node in ast.walk(ast.parse((PKG / rel).read_text())):
            cap = (400 if isinstance(node, ast.ClassDef) else
                   60 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None)
            if cap is not None and node.end_lineno - node.lineno + 1 > cap:
                over.append(f"{rel}:{node.lineno} {node.name}")
    assert over == []
