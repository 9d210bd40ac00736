"""The README's quick start, run line by line as a user types it, with only the installed
commands on PATH, in an empty directory outside the source tree."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def quick_start_lines(doc: Path = README, heading: str = "## Quick start") -> list[str]:
    text = doc.read_text()
    section = text[text.index(heading):]
    block = section[section.index("```sh\n") + 6:section.index("\n```", section.index("```sh\n"))]
    lines, heredoc = [], None
    for line in block.splitlines():        # join a heredoc into the command that opens it
        if heredoc is not None:
            lines[-1] += "\n" + line
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<'?(\w+)'?", line)
        lines.append(line)
        if m:
            heredoc = m[1]
    return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_block(lines: list[str], cwd: Path) -> list[tuple[str, str]]:
    """Run the lines as a user would (background ones stay up until the end); returns
    (command, output) of the foreground ones, each of which must exit 0."""
    port = str(free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPUSHARE_")}
    env["PATH"] = f"{BIN}:/usr/bin:/bin"
    env["HOME"] = str(cwd)                  # no config file of the user running the tests
    env.pop("XDG_CONFIG_HOME", None)
    background: list[subprocess.Popen] = []
    outputs = []
    try:
        for line in lines:
            cmd = line.replace("5555", port).split("  #")[0].strip()
            if cmd.startswith("cpushare-hub serve"):      # the docs' default port may be taken here
                cmd = cmd.rstrip("& ") + f" --bind tcp://127.0.0.1:{port} &"
            if cmd.endswith("&"):
                background.append(subprocess.Popen(["bash", "-c", cmd[:-1]], cwd=cwd, env=env,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   start_new_session=True))
                if "cpushare-hub serve" in cmd:   # a user waits for the hub to be up
                    wait_for(lambda: (cwd / "hub.db.sock").exists(), 60, "the hub's buyer socket")
                continue
            r = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True,
                               text=True, timeout=300)
            assert r.returncode == 0, f"{cmd!r} failed:\n{r.stdout}\n{r.stderr}"
            outputs.append((cmd, r.stdout + r.stderr))
    finally:
        for p in background:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in background:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
    return outputs


def test_sandbox_doc_walk_through_works_from_the_installed_commands(short_tmp):
    outputs = run_block(quick_start_lines(ROOT / "docs" / "sandbox.md", "### Writing a program, start to finish"),
                        short_tmp)
    said = dict(outputs)
    assert said["cpushare-sandbox run count.elf --input part1.txt"] == "2 lines, 8 bytes\n"
    cat = next(out for cmd, out in outputs if cmd.startswith("cat results/"))
    assert cat == "2 lines, 8 bytes\n1 lines, 6 bytes\n"


def test_readme_quick_start_works_from_the_installed_commands(short_tmp):
    outputs = run_block(quick_start_lines(), short_tmp)
    said = dict(outputs)
    cat = next(out for cmd, out in outputs if cmd.startswith("cat out/"))
    assert cat == "HELLOWORLD"
    assert any("the loader would start it" in out for out in said.values())
    assert any("all 2 fragments succeeded" in out for out in said.values())
