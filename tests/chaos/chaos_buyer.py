"""A buyer process for the chaos tests: submits a job (or attaches to one) and keeps every
result it receives in an append-only file, re-attaching whenever the hub goes away.
The test kills it with SIGKILL mid-job and starts it again with --attach.

Record format in --out: u32 index | u32 size | bytes. A torn last record (killed while
writing) is cut off on start.

    python chaos_buyer.py --api SOCK --out FILE --submit --program ELF --shared FILE --fragments FILE
    python chaos_buyer.py --api SOCK --out FILE --attach JOB_ID
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import time

from cpushare_mq import Client
from cpushare_mq.errors import CpushareError

REC = struct.Struct("<II")


def load_records(path: str) -> dict[int, bytes]:
    """Read the records; cut a torn tail. Returns index -> bytes (last one wins)."""
    got: dict[int, bytes] = {}
    if not os.path.exists(path):
        return got
    data = open(path, "rb").read()
    pos = 0
    while pos + REC.size <= len(data):
        idx, n = REC.unpack_from(data, pos)
        if pos + REC.size + n > len(data):
            break
        got[idx] = data[pos + REC.size:pos + REC.size + n]
        pos += REC.size + n
    if pos != len(data):
        with open(path, "r+b") as f:
            f.truncate(pos)
    return got


def split_fragments(blob: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(blob):
        (n,) = struct.unpack_from("<I", blob, pos)
        out.append(blob[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--submit", action="store_true")
    ap.add_argument("--attach")
    ap.add_argument("--program")
    ap.add_argument("--shared")
    ap.add_argument("--fragments")
    ap.add_argument("--deadline-s", type=float, default=90)
    a = ap.parse_args()
    have = load_records(a.out)
    end = time.monotonic() + a.deadline_s
    job_id = a.attach
    if a.submit:
        frags = split_fragments(open(a.fragments, "rb").read())
        shared = open(a.shared, "rb").read() if a.shared else b""
        c = Client(a.api)
        job = c.submit(a.program, frags, shared_input=shared, name="chaos", max_attempts=20)
        job_id = job.id
        tmp = a.out + ".jobid.tmp"
        with open(tmp, "w") as f:
            f.write(job_id)
        os.replace(tmp, a.out + ".jobid")
        print(f"submitted {job_id}", flush=True)
        job.close()
        c.close()
    total = None
    attaches = 0
    while time.monotonic() < end:
        try:
            with Client(a.api, timeout_s=5) as c, open(a.out, "ab") as out:
                job = c.attach(job_id)
                attaches += 1
                total = job.progress()["total"]
                for idx, data in job.results(timeout_s=10):
                    out.write(REC.pack(idx, len(data)) + data)
                    out.flush()
                    have[idx] = data
                if job.failures:
                    print(f"failed fragments: {job.failures[:5]}", flush=True)
                    return 3
                if len(have) >= total:
                    print(f"complete: {len(have)} results, {attaches} attach(es)", flush=True)
                    return 0
        except (CpushareError, OSError) as exc:
            print(f"hub went away ({type(exc).__name__}: {exc}); attaching again", flush=True)
            time.sleep(0.2)
    print(f"deadline: {len(have)} of {total} results", flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
