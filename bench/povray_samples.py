#!/usr/bin/env python3
"""How many of POV-Ray 3.7's own sample scenes we render like POV-Ray (issues 16 and 17).

    .venv/bin/python bench/povray_samples.py                 # all sample scenes
    .venv/bin/python bench/povray_samples.py --only advanced/  # scenes whose path has this
    .venv/bin/python bench/povray_samples.py --show-failures 20

Each sample scene of Debian's `povray-examples` (with `povray-includes`; install them with
`apt-get install povray povray-includes povray-examples`, this script installs nothing) is
rendered in its own folder at 160x120 without anti-aliasing by POV-Ray 3.7,

    povray +I<scene> +O<cache> +W160 +H120 -D -A +FN

(niced, at most --ref-jobs at once, --timeout-s seconds each; the reference PNGs are cached
under ~/.cache/cpushare-povray-samples, so only the first run pays for them) and by ours,

    povray-render <scene> -W 160 -H 120 -o out.png

A scene counts when POV-Ray renders it within the timeout and ours reaches --min-psnr dB
(default 40) against it. Prints the count, a histogram of the reasons of the rest (our first
error, or "psnr<40"), and our total render time against POV-Ray's over the matching scenes
(wall time of each command, including parsing and PNG writing).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpushare_mq.native import find_binary  # noqa: E402
from cpushare_mq.povray.image import psnr, read_png  # noqa: E402

EXAMPLES = Path("/usr/share/doc/povray/examples")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cpushare-povray-samples"
W, H = 160, 120


def list_scenes(only: str | None) -> list[Path]:
    if not EXAMPLES.is_dir():
        raise SystemExit(f"no sample scenes in {EXAMPLES}: apt-get install povray povray-includes "
                         "povray-examples")
    scenes = sorted(EXAMPLES.rglob("*.pov"))
    return [s for s in scenes if not only or only in str(s.relative_to(EXAMPLES))]


def ref_paths(scene: Path) -> tuple[Path, Path]:
    rel = scene.relative_to(EXAMPLES)
    base = CACHE / f"{W}x{H}" / rel.parent / rel.stem
    return base.with_suffix(".png"), base.with_suffix(".json")


def render_ref(scene: Path, timeout_s: float) -> dict:
    png, meta = ref_paths(scene)
    if meta.exists():
        return json.loads(meta.read_text())
    png.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["nice", "povray", f"+I{scene.name}", f"+O{png}", f"+W{W}", f"+H{H}", "-D", "-A", "+FN"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=scene.parent, capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        ok = proc.returncode == 0 and png.exists()
        info = {"status": "ok" if ok else "failed", "wall_s": wall,
                "error": "" if ok else proc.stderr.strip().splitlines()[-1:] and
                proc.stderr.strip().splitlines()[-1]}
    except subprocess.TimeoutExpired:
        info = {"status": "timeout", "wall_s": timeout_s, "error": f"over {timeout_s} s"}
    meta.write_text(json.dumps(info))
    return info


REASON_PATTERNS = [
    (re.compile(r"unsupported word '([^']*)'"), "unsupported {0}"),
    (re.compile(r"expected (.*?), got '([^']*)'"), "expected {0} got {1}"),
    (re.compile(r"cannot find include file '([^']*)'"), "include {0} not found"),
    (re.compile(r"assumed_gamma"), "assumed_gamma"),
]


def reason_of(stderr: str) -> str:
    line = next((ln for ln in stderr.splitlines() if ln.startswith("povray-render:")), stderr)
    for rx, fmt in REASON_PATTERNS:
        m = rx.search(line)
        if m:
            return fmt.format(*m.groups())
    msg = re.sub(r"^povray-render: (\S+:\d+: )?", "", line.strip())
    return msg[:70] or "failed without a message"


def render_ours(binary: str, scene: Path, timeout_s: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.png"
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([binary, scene.name, "-W", str(W), "-H", str(H), "-o", str(out)],
                                  cwd=scene.parent, capture_output=True, text=True,
                                  timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "reason": f"ours over {timeout_s} s"}
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            return {"status": "error", "reason": reason_of(proc.stderr), "stderr": proc.stderr}
        return {"status": "ok", "wall_s": wall, "image": read_png(out)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="only scenes whose path (under the examples folder) contains this")
    ap.add_argument("--timeout-s", type=float, default=60.0, help="per scene and renderer (default 60)")
    ap.add_argument("--ref-jobs", type=int, default=2, help="POV-Ray renders at once (default 2)")
    ap.add_argument("--jobs", type=int, default=2, help="our renders at once (default 2)")
    ap.add_argument("--min-psnr", type=float, default=40.0)
    ap.add_argument("--show-failures", type=int, default=0, metavar="N",
                    help="also print the first N failing scenes with their reason")
    ap.add_argument("--json", help="write per-scene results to this file")
    args = ap.parse_args()

    scenes = list_scenes(args.only)
    with cf.ThreadPoolExecutor(args.ref_jobs) as ex:
        refs = dict(zip(scenes, ex.map(lambda s: render_ref(s, args.timeout_s), scenes), strict=True))
    eligible = [s for s in scenes if refs[s]["status"] == "ok"]
    binary = str(find_binary("povray-render"))
    with cf.ThreadPoolExecutor(args.jobs) as ex:
        ours = dict(zip(eligible, ex.map(lambda s: render_ours(binary, s, args.timeout_s), eligible), strict=True))

    reasons: collections.Counter[str] = collections.Counter()
    failures: list[tuple[str, str]] = []
    per_scene = {}
    matching, t_ours, t_ref = [], 0.0, 0.0
    for s in eligible:
        rel = str(s.relative_to(EXAMPLES))
        r = ours[s]
        if r["status"] == "ok":
            db = psnr(r["image"], read_png(ref_paths(s)[0]))
            per_scene[rel] = {"psnr": db if math.isfinite(db) else 999.0}
            if db >= args.min_psnr:
                matching.append(rel)
                t_ours += r["wall_s"]
                t_ref += refs[s]["wall_s"]
                continue
            why = f"psnr<{args.min_psnr:g}"
        else:
            why = r["reason"]
            per_scene[rel] = {"reason": why}
        reasons[why] += 1
        failures.append((rel, why))

    not_ref = collections.Counter(refs[s]["status"] for s in scenes if refs[s]["status"] != "ok")
    print(f"sample scenes: {len(scenes)}; POV-Ray renders {len(eligible)} within "
          f"{args.timeout_s:g} s ({dict(not_ref)} otherwise)")
    print(f"ours at >= {args.min_psnr:g} dB: {len(matching)} of {len(eligible)}")
    if matching:
        print(f"render time over the matching scenes: ours {t_ours:.2f} s, POV-Ray {t_ref:.2f} s "
              f"(ratio {t_ours / t_ref:.2f})")
    print("first-error reasons of the rest:")
    for why, n in reasons.most_common():
        print(f"  {n:4d}  {why}")
    for rel, why in failures[: args.show_failures]:
        print(f"  {rel}: {why}")
    if args.json:
        Path(args.json).write_text(json.dumps(per_scene, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
