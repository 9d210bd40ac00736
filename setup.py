"""Build hook: compile the C parts (loader, runtime, programs) with the system compiler.

`pip install .` runs `make -C c` and copies the binaries into `cpushare_mq/_bin/` so an
installed package carries its trusted loader. In a development checkout the binaries are
found in `c/build/` instead (see `cpushare_mq/native.py`).
"""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithC(build_py):
    def run(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            raise SystemExit(
                "cpushare-mq: no C compiler found (looked for 'cc' and 'gcc' on PATH). "
                "The sandbox loader must be compiled; install one, e.g. 'apt-get install gcc make'."
            )
        if shutil.which("make") is None:
            raise SystemExit("cpushare-mq: 'make' not found; install it, e.g. 'apt-get install make'.")
        subprocess.run(["make", "-C", str(ROOT / "c")], check=True)
        super().run()
        out = Path(self.build_lib) / "cpushare_mq" / "_bin"
        out.mkdir(parents=True, exist_ok=True)
        build = ROOT / "c" / "build"
        for item in build.rglob("*"):
            if item.relative_to(build).parts[0] == "ports":
                continue  # the Debian proof programs (make ports) are not part of the package
            if item.is_file() and not item.name.endswith((".o", ".d")):
                dest = out / item.relative_to(build)  # keep examples/, hostile/ subfolders
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(item, dest)


setup(cmdclass={"build_py": BuildWithC})
