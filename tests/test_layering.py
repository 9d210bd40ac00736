"""The layering of docs/architecture.md holds: every module of cpushare_mq has a row in its
table, and no module imports one of a higher layer (issue 20)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "cpushare_mq"
DOC = ROOT / "docs" / "architecture.md"


def layer_table() -> list[tuple[int, str]]:
    """(layer number, path pattern under cpushare_mq/) from the doc's Layers table."""
    text = DOC.read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.match(r"(\d+) ", cells[0]) if len(cells) >= 3 else None
        if m:
            rows += [(int(m.group(1)), pat) for pat in re.findall(r"`([^`]+)`", cells[1])]
    return rows


def module_files() -> dict[str, Path]:
    """relative path (hub/store.py) -> file, for every module of the package"""
    return {p.relative_to(PKG).as_posix(): p for p in PKG.rglob("*.py")}


def layer_of(rel: str, table: list[tuple[int, str]]) -> int | None:
    """The row naming ``rel`` itself, else the row of its deepest folder."""
    exact = [n for n, pat in table if pat == rel]
    if exact:
        return exact[0]
    folders = [(len(pat), n) for n, pat in table if pat.endswith("/") and rel.startswith(pat)]
    return max(folders)[1] if folders else None


def imports_of(rel: str, path: Path, files: dict[str, Path]) -> set[str]:
    """The package modules ``rel`` imports (relative paths), at any depth of its code."""
    here = rel.split("/")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
            elif node.module and node.module.split(".")[0] == "cpushare_mq":
                base, node = [], ast.ImportFrom(module=".".join(node.module.split(".")[1:]) or None,
                                                names=node.names, level=0)
            else:
                continue
            target = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                found.add(_resolve(target, alias.name, files))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "cpushare_mq":
                    found.add(_resolve(parts[1:-1], parts[-1], files) if len(parts) > 1 else "__init__.py")
    found.discard(rel)
    found.discard(None)
    return found


def _resolve(target: list[str], name: str, files: dict[str, Path]) -> str | None:
    """``from TARGET import NAME``: the module NAME if it is one, else TARGET's file."""
    for cand in ("/".join([*target, name]) + ".py", "/".join([*target, name, "__init__.py"])):
        if cand in files:
            return cand
    joined = "/".join(target)
    for cand in (joined + ".py", (joined + "/" if joined else "") + "__init__.py"):
        if cand in files:
            return None if cand == "__init__.py" and name == "__version__" else cand
    return None


def test_every_module_has_a_row_in_the_layer_table():
    table = layer_table()
    assert len(table) > 20, "the Layers table of docs/architecture.md was not found"
    files = module_files()
    missing = [rel for rel, path in files.items() if layer_of(rel, table) is None
               and not (path.name == "__init__.py" and not imports_of(rel, path, files))]
    assert not missing, f"modules without a row in docs/architecture.md's Layers table: {missing}"


def test_no_module_imports_a_higher_layer():
    table, files = layer_table(), module_files()
    wrong = []
    for rel, path in sorted(files.items()):
        mine = layer_of(rel, table)
        if mine is None:
            continue
        for dep in sorted(imports_of(rel, path, files)):
            theirs = layer_of(dep, table)
            if theirs is not None and theirs > mine:
                wrong.append(f"{rel} (layer {mine}) imports {dep} (layer {theirs})")
    assert not wrong, "imports against docs/architecture.md's layering:\n" + "\n".join(wrong)


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The rule itself: a base module importing a shell is found."""
    table = [(1, "errors.py"), (8, "hub/server.py")]
    files = {"errors.py": tmp_path / "errors.py", "hub/server.py": tmp_path / "server.py"}
    files["errors.py"].write_text("from .hub.server import Hub\n")
    deps = imports_of("errors.py", files["errors.py"], files)
    assert deps == {"hub/server.py"}
    assert layer_of("hub/server.py", table) > layer_of("errors.py", table)
