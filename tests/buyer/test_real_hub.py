"""The buyer API against a real embedded Hub and real cpushare-worker processes."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq import buyer_protocol as bp
from cpushare_mq.buyer_protocol import Err, Rep, Req
from cpushare_mq.client import Client, HubRefused
from cpushare_mq.hub.api import client_for

from .helpers import hello_frame, raw_exchange


def test_python_client_end_to_end(real_hub, worker, echo_elf):
    frags = [f"fragment number {i}".encode() * (i + 1) for i in range(40)]
    with client_for(real_hub) as c:
        job = c.submit(echo_elf, frags, name="e2e")
        got = dict(job.results(timeout_s=60))
        assert got == dict(enumerate(frags))
        p = job.progress()
        assert (p["state"], p["done"], p["failed"], p["total"], p["name"]) == ("done", 40, 0, 40, "e2e")
        st_ = c.status()
        assert any(j["job_id"] == job.id for j in st_["jobs"])
        assert len(st_["workers"]) == 1 and st_["workers"][0]["alive"] and st_["workers"][0]["done"] >= 40


def test_large_result_is_streamed_in_chunks(real_hub, worker, echo_elf):
    big = os.urandom(3 << 20)
    with client_for(real_hub) as c:
        job = c.submit(echo_elf, [big, b"tiny"])
        seen = {}
        for index, chunks in job.results_stream(timeout_s=60):
            parts = list(chunks)
            seen[index] = (len(parts), b"".join(parts))
    assert seen[0][1] == big and seen[0][0] >= 3     # chunks of at most 1 MiB
    assert seen[1] == (1, b"tiny")


def test_failed_fragments_come_with_reasons(real_hub, worker):
    with client_for(real_hub) as c:
        job = c.submit(b"this is not an ELF file", [b"a", b"b"], max_attempts=2)
        assert list(job.results(timeout_s=60)) == []
        assert sorted(i for i, _ in job.failures) == [0, 1]
        assert all("bad_program" in r for _, r in job.failures), job.failures
        p = job.progress()
        assert (p["done"], p["failed"]) == (0, 2)
        assert {f["index"] for f in p["failures"]} == {0, 1}


def test_cancel_ends_the_job_and_the_stream(real_hub, echo_elf):
    # no worker: nothing can finish, so the cancel is what ends the stream
    with client_for(real_hub) as c:
        job = c.submit(echo_elf, [b"a", b"b", b"c"])
        assert job.progress()["pending"] == 3
        job.cancel()
        assert list(job.results(timeout_s=30)) == []
        assert job.wait(timeout_s=10)["state"] == "cancelled"


def test_unknown_job_is_refused(real_hub):
    with client_for(real_hub) as c:
        with pytest.raises(HubRefused, match="unknown job"):
            c.attach("j-does-not-exist")
        with pytest.raises(HubRefused, match="unknown job"):
            c.cancel("j-does-not-exist")


def _run_c(buyer_test, *args, timeout=60):
    return subprocess.run([str(buyer_test), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def _result_lines(out: str) -> list[int]:
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("result ")]


def test_c_client_submits_and_streams(real_hub, worker, echo_elf, buyer_test, short_tmp):
    inputs = []
    for i in range(6):
        p = short_tmp / f"in{i}"
        p.write_bytes(os.urandom(100 * i + 1))
        inputs.append(p)
    outdir = short_tmp / "out"
    outdir.mkdir()
    r = _run_c(buyer_test, "-a", real_hub.api_address, "-o", outdir, echo_elf, *inputs)
    assert r.returncode == 0, r.stderr
    assert sorted(_result_lines(r.stdout)) == list(range(6))
    for i, p in enumerate(inputs):
        assert (outdir / f"{i}.out").read_bytes() == p.read_bytes()
    assert "progress 6 0 0 6 0" in r.stdout
    assert "finished 6" in r.stdout


def test_c_client_killed_then_reattached_gets_only_unconsumed(real_hub, worker, echo_elf, buyer_test, short_tmp):
    n, k = 20, 5
    inputs = []
    for i in range(n):
        p = short_tmp / f"in{i}"
        p.write_bytes(f"input {i}".encode())
        inputs.append(p)
    first = _run_c(buyer_test, "-a", real_hub.api_address, "-n", k, echo_elf, *inputs)
    assert first.returncode == 3, first.stderr   # _exit after k results: no close, no ack of the k-th
    job_id = first.stdout.split()[1]
    consumed = _result_lines(first.stdout)
    assert len(consumed) == k
    second = _run_c(buyer_test, "-a", f"unix:{real_hub.api_address.removeprefix('unix:')}", "-j", job_id)
    assert second.returncode == 0, second.stderr
    rest = _result_lines(second.stdout)
    assert sorted(rest) == sorted(set(range(n)) - set(consumed[:k - 1]))
    assert rest[0] == consumed[-1]   # the one being processed at the crash comes first, again
    third = _run_c(buyer_test, "-a", real_hub.api_address, "-j", job_id)
    assert _result_lines(third.stdout) == [] and "finished 0" in third.stdout


def test_many_concurrent_clients_python_and_c(real_hub, worker, echo_elf, buyer_test, short_tmp):
    errors, results = [], {}

    def py_client(k):
        try:
            with client_for(real_hub) as c:
                frags = [f"{k}/{i}".encode() for i in range(10)]
                results[k] = dict(c.submit(echo_elf, frags).results(timeout_s=60)) == dict(enumerate(frags))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    inp = short_tmp / "c-in"
    inp.write_bytes(b"from C")
    procs = [subprocess.Popen([str(buyer_test), "-a", real_hub.api_address, str(echo_elf), str(inp), str(inp)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    threads = [threading.Thread(target=py_client, args=(k,)) for k in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        outs = [p.communicate(timeout=90) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert not errors
    assert results == {k: True for k in range(8)}
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert sorted(_result_lines(out)) == [0, 1]


# ------------------------------------------------------------------------ fuzzing the socket

_valid_requests = st.sampled_from([
    bp.encode(Req.STATUS), bp.encode(Req.ACK, seq=3), bp.encode(Req.NEXT, timeout_ms=0, max_results=2),
    bp.encode(Req.PROGRESS, job_id="x"), bp.encode(Req.ATTACH, job_id="nope", from_start=1),
    bp.encode(Req.SUBMIT, n_fragments=1, redundancy=0, quorum=0, cpu_s=0.0, wall_s=0.0, max_attempts=0,
              priority=0, max_output_bytes=0, name="fuzz"),
    bp.frame(Req.PROGRAM, b"\x7fELF"), bp.encode(Req.CLOSE),
])


@st.composite
def hostile_streams(draw):
    kind = draw(st.sampled_from(["garbage", "after_hello", "mutated"]))
    if kind == "garbage":
        return kind, draw(st.binary(min_size=1, max_size=200))
    frames = draw(st.lists(_valid_requests, max_size=4))
    tail = draw(st.binary(max_size=60))
    data = hello_frame() + b"".join(frames) + tail
    if kind == "mutated":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        data = bytes(data)
    return kind, data


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile_streams())
def test_fuzzed_buyer_socket_errors_close_and_the_hub_keeps_serving(real_hub, stream):
    kind, data = stream
    frames, closed = raw_exchange(real_hub.api_address, data)
    assert closed                                        # every connection ends, none hangs
    errors = [f for f in frames if f.type == Rep.ERROR]
    assert len(errors) <= 1 and (not errors or frames[-1].type == Rep.ERROR)  # ERROR is the last word
    if errors:
        assert errors[0]["code"] in set(Err) and errors[0]["message"]
    if kind == "garbage" and not data.startswith(hello_frame()[:len(data)]):
        assert errors, f"garbage {data[:40]!r} got no error"
    with Client(real_hub.api_address) as c:              # the hub still serves everyone else
        assert isinstance(c.status()["jobs"], list)


def test_truncated_and_huge_frames_on_the_real_hub(real_hub):
    frames, closed = raw_exchange(real_hub.api_address, hello_frame()[:7])
    assert closed and frames[-1].type == Rep.ERROR and "truncated frame" in frames[-1]["message"]
    huge = hello_frame() + (1 << 31).to_bytes(4, "little") + bytes([Req.FRAGMENTS])
    frames, closed = raw_exchange(real_hub.api_address, huge)
    assert closed and frames[-1]["code"] == Err.TOO_LARGE


def test_consumption_survives_a_hub_restart(short_tmp, echo_elf):
    from cpushare_mq.hub.server import Hub

    from .conftest import start_worker, stop_process

    db = short_tmp / "hub.db"
    hub = Hub(db, bind="tcp://127.0.0.1:0").start()
    w = start_worker(hub.worker_endpoint, short_tmp / "cache")
    try:
        with client_for(hub) as c:
            job = c.submit(echo_elf, [f"{i}".encode() for i in range(8)])
            job.wait(timeout_s=60)
            consumed = []
            for index, _ in job.results(timeout_s=30):
                consumed.append(index)
                if len(consumed) == 3:
                    break
    finally:
        stop_process(w)
        hub.close()
    hub = Hub(db, bind="tcp://127.0.0.1:0").start()   # same database, new process state
    try:
        with client_for(hub) as c:
            rest = dict(c.attach(job.id).results(timeout_s=30))
        assert sorted(rest) == sorted(set(range(8)) - set(consumed))
        assert all(rest[i] == f"{i}".encode() for i in rest)
    finally:
        hub.close()
