"""The buyer socket and the Python client against an in-memory hub (fast, deterministic)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from cpushare_mq import buyer_protocol as bp
from cpushare_mq.buyer_protocol import Err, Rep, Req
from cpushare_mq.client import BuyerTimeout, Client, HubRefused
from cpushare_mq.errors import BuyerApiError, ConfigError

from .helpers import hello_frame, raw_exchange

PROGRAM = b"\x7fELF-not-really"


def finish_later(hub, job_id, plan, delay_s=0.0):
    """plan: list of (index, data-or-None, reason) finished in that order."""
    def run():
        for index, data, reason in plan:
            if delay_s:
                time.sleep(delay_s)
            hub.finish(job_id, index, data, reason)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_submit_stores_the_spec_and_streams_results_as_they_finish(fake_hub, fake_server):
    frags = [f"fragment {i}".encode() for i in range(20)]
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, frags, shared_input=b"shared", redundancy=3, quorum=2, cpu_s=5,
                       wall_s=7, max_attempts=2, priority=-4, name="twenty")
        spec = fake_hub.jobs[job.id].spec
        assert (spec.program, spec.fragments, spec.shared_input) == (PROGRAM, frags, b"shared")
        assert (spec.redundancy, spec.quorum, spec.cpu_s, spec.wall_s, spec.max_attempts,
                spec.priority, spec.name) == (3, 2, 5.0, 7.0, 2, -4, "twenty")
        order = list(reversed(range(20)))
        finish_later(fake_hub, job.id, [(i, frags[i][::-1], "") for i in order], delay_s=0.005)
        got = list(job.results(timeout_s=30))
        assert [i for i, _ in got] == order           # completion order, not index order
        assert all(d == frags[i][::-1] for i, d in got)
        p = job.progress()
        assert (p["state"], p["done"], p["failed"], p["total"]) == ("done", 20, 0, 20)


def test_results_arrive_before_the_job_ends(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a", b"b"])
        fake_hub.finish(job.id, 1, b"B")
        it = job.results(timeout_s=10)
        assert next(it) == (1, b"B")
        assert job.progress()["pending"] == 1   # streaming: the other one is still open
        fake_hub.finish(job.id, 0, b"A")
        assert list(it) == [(0, b"A")]


def test_large_result_comes_whole_through_results(fake_hub, fake_server):
    big = os.urandom(3 * (1 << 20) + 12345)
    fake_hub.chunk_bytes = 700_000
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"x"])
        fake_hub.finish(job.id, 0, big)
        assert list(job.results(timeout_s=10)) == [(0, big)]


def test_results_stream_gives_chunks_before_the_whole_result(fake_hub, fake_server):
    big = os.urandom(3 * (1 << 20))
    fake_hub.chunk_bytes = 1 << 20
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"x", b"y"])
        fake_hub.finish(job.id, 1, big)
        fake_hub.finish(job.id, 0, b"small")
        seen = []
        for index, chunks in job.results_stream(timeout_s=10):
            parts = list(chunks)
            seen.append((index, len(parts), b"".join(parts)))
        assert seen == [(1, 3, big), (0, 1, b"small")]


def test_failures_are_reported_with_reasons(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a", b"b", b"c"])
        finish_later(fake_hub, job.id, [(0, b"A", ""), (1, None, "cpu_limit: 3 attempts"),
                                        (2, None, "fragment_error: bad tile")])
        items = [(it.index, it.ok, it.reason) for it in job.items(timeout_s=10)]
        assert items == [(0, True, ""), (1, False, "cpu_limit: 3 attempts"),
                         (2, False, "fragment_error: bad tile")]
        assert job.failures == [(1, "cpu_limit: 3 attempts"), (2, "fragment_error: bad tile")]
        p = job.progress()
        assert (p["done"], p["failed"]) == (1, 2)
        assert p["failures"] == [{"index": 1, "reason": "cpu_limit: 3 attempts"},
                                 {"index": 2, "reason": "fragment_error: bad tile"}]


def test_reattach_delivers_only_unconsumed_results(fake_hub, fake_server):
    n = 10
    c = Client(fake_server.address)
    job = c.submit(PROGRAM, [bytes([i]) for i in range(n)])
    job_id = job.id
    for i in range(n):
        fake_hub.finish(job_id, i, bytes([i]))
    consumed = []
    for index, _ in job.results(timeout_s=10):
        consumed.append(index)
        if len(consumed) == 4:
            break
    c.close()   # a graceful close: the 4th result counts as consumed
    with Client(fake_server.address) as c2:
        rest = [i for i, _ in c2.attach(job_id).results(timeout_s=10)]
    assert consumed == [0, 1, 2, 3]
    assert rest == list(range(4, n))
    with Client(fake_server.address) as c3:   # everything consumed now: nothing comes again
        assert list(c3.attach(job_id).results(timeout_s=10)) == []
        # but a re-fetch from the beginning gives every result
        assert [i for i, _ in c3.attach(job_id, from_start=True).results(timeout_s=10)] == list(range(n))


CHILD = textwrap.dedent("""
    import os, signal, sys
    from cpushare_mq.client import Client
    addr, job_id, k, ack = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "ack"
    job = Client(addr).attach(job_id)
    n = 0
    for index, data in job.results(timeout_s=30):
        print(index, flush=True)
        n += 1
        if n == k:
            if ack:
                job.ack()
            os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.parametrize("ack_last", [True, False])
def test_reattach_after_the_client_process_is_killed(fake_hub, fake_server, ack_last):
    n, k = 12, 5
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [bytes([i]) for i in range(n)])
    for i in range(n):
        fake_hub.finish(job.id, i, bytes([i]))
    proc = subprocess.run([sys.executable, "-c", CHILD, fake_server.address, job.id, str(k),
                           "ack" if ack_last else "no"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    consumed = [int(x) for x in proc.stdout.split()]
    assert consumed == list(range(k))
    with Client(fake_server.address) as c2:
        rest = [i for i, _ in c2.attach(job.id).results(timeout_s=10)]
    # the result being processed when the process died was not acknowledged: it comes again
    assert rest == (list(range(k, n)) if ack_last else list(range(k - 1, n)))


def test_cancel_ends_the_stream(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a", b"b", b"c"])
        fake_hub.finish(job.id, 0, b"A")
        it = job.results(timeout_s=10)
        assert next(it) == (0, b"A")
        job.cancel()   # over the control connection while the stream is open
        assert list(it) == []
        assert job.progress()["state"] == "cancelled"
        assert job.wait(timeout_s=5)["state"] == "cancelled"


def test_wait_returns_at_the_end_and_times_out_before(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a", b"b"])
        with pytest.raises(BuyerTimeout, match="not finished"):
            job.wait(timeout_s=0.3)
        finish_later(fake_hub, job.id, [(0, b"A", ""), (1, None, "boom")], delay_s=0.05)
        p = job.wait(timeout_s=10)
        assert (p["done"], p["failed"]) == (1, 1)
        with pytest.raises(BuyerTimeout):
            list(c.submit(PROGRAM, [b"z"]).results(timeout_s=0.3))


def test_status_lists_jobs_and_workers(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a"], name="stat")
        st = c.status()
    assert [j["job_id"] for j in st["jobs"]] == [job.id]
    assert st["jobs"][0]["name"] == "stat"
    assert st["workers"] == [{"worker_id": "w1", "name": "fake", "slots": 2, "busy": 1, "paused": False,
                              "alive": True, "last_seen_s": 0.25, "done": 3, "failed": 1,
                              "reputation": "", "strikes": 0, "held": ""}]
    assert st["throughput_per_s"] == 12.5


def test_many_concurrent_clients(fake_hub, fake_server):
    n_clients, n_frags = 16, 25
    errors, results = [], {}

    def one(k):
        try:
            with Client(fake_server.address) as c:
                frags = [f"{k}:{i}".encode() for i in range(n_frags)]
                job = c.submit(PROGRAM, frags)
                finish_later(fake_hub, job.id, [(i, f.upper(), "") for i, f in enumerate(frags)])
                results[k] = sorted(job.results(timeout_s=30))
        except Exception as exc:   # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for k in range(n_clients):
        assert results[k] == [(i, f"{k}:{i}".encode().upper()) for i in range(n_frags)]
    deadline = time.monotonic() + 10
    while fake_server.connection_count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_server.connection_count == 0


def test_unknown_job_is_refused_and_the_hub_carries_on(fake_server):
    with Client(fake_server.address) as c:
        with pytest.raises(HubRefused, match="unknown job") as ei:
            c.attach("no-such-job")
        assert ei.value.code == Err.UNKNOWN_JOB
        with pytest.raises(HubRefused, match="unknown job"):
            c.progress("nope")
        assert c.status()["jobs"] == []    # the control connection reconnects


def test_client_errors_name_the_problem(tmp_path, fake_server, monkeypatch):
    monkeypatch.delenv("CPUSHARE_API", raising=False)
    with pytest.raises(ConfigError, match="CPUSHARE_API"):
        Client()
    with pytest.raises(BuyerApiError, match="is the hub running"):
        Client(str(tmp_path / "nothing.sock"))
    with pytest.raises(ConfigError, match="tcp://"):
        Client("http://example.com")
    monkeypatch.setenv("CPUSHARE_API", fake_server.address)
    with Client() as c:
        with pytest.raises(ConfigError, match="number of fragments must be an integer in \\[1, "):
            c.submit(PROGRAM, [])
        with pytest.raises(ConfigError, match="quorum"):
            c.submit(PROGRAM, [b"a"], redundancy=2, quorum=3)
        with pytest.raises(ConfigError, match="cannot read program"):
            c.submit(tmp_path / "missing.elf", [b"a"])


# ----------------------------------------------------------------- bad input on the raw socket

def _expect_error(address, data, code, match):
    frames, closed = raw_exchange(address, data)
    assert closed
    errors = [f for f in frames if f.type == Rep.ERROR]
    assert len(errors) == 1, frames
    assert errors[0]["code"] == code
    assert match in errors[0]["message"]
    return frames


def test_garbage_gets_an_error_and_a_closed_connection(fake_server):
    _expect_error(fake_server.address, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", Err.TOO_LARGE, "cap")
    _expect_error(fake_server.address, b"\x03\x00\x00\x00\x01abc", Err.BAD_FRAME, "HELLO")


def test_truncated_frame(fake_server):
    whole = hello_frame()
    _expect_error(fake_server.address, whole[:-3], Err.BAD_FRAME, "truncated frame")
    _expect_error(fake_server.address, whole + bp.encode(Req.ACK, seq=1)[:6], Err.BAD_FRAME, "truncated frame")


def test_huge_length(fake_server):
    data = hello_frame() + (0xFFFFFFF0).to_bytes(4, "little") + bytes([Req.PROGRAM])
    frames = _expect_error(fake_server.address, data, Err.TOO_LARGE, "cap")
    assert frames[0].type == Rep.HELLO


def test_unknown_request(fake_server):
    _expect_error(fake_server.address, hello_frame() + bp.frame(0x42, b"hi"), Err.UNKNOWN_REQUEST, "0x42")
    _expect_error(fake_server.address, hello_frame() + bp.encode(Rep.OK), Err.UNKNOWN_REQUEST, "0x8a")


def test_other_version_is_refused_clearly(fake_server):
    _expect_error(fake_server.address, hello_frame(version=9), Err.VERSION, f"version {bp.VERSION}")


def test_requests_before_hello_or_out_of_order(fake_server):
    a = fake_server.address
    _expect_error(a, bp.encode(Req.STATUS), Err.BAD_REQUEST, "expected HELLO first")
    _expect_error(a, hello_frame() + bp.encode(Req.NEXT, timeout_ms=0, max_results=1), Err.BAD_REQUEST,
                  "no job followed")
    _expect_error(a, hello_frame() + bp.encode(Req.FRAGMENTS, fragments=[b"x"]), Err.BAD_REQUEST,
                  "outside a submission")
    submit = bp.encode(Req.SUBMIT, n_fragments=2, redundancy=0, quorum=0, cpu_s=0.0, wall_s=0.0,
                       max_attempts=0, priority=0, max_output_bytes=0, name="")
    body = submit + bp.frame(Req.PROGRAM, PROGRAM) + bp.frame(Req.SHARED, b"")
    _expect_error(a, hello_frame() + body + bp.encode(Req.FRAGMENTS, fragments=[b"x"]) + bp.encode(Req.SUBMIT_END),
                  Err.BAD_REQUEST, "after 1 fragments, SUBMIT announced 2")
    _expect_error(a, hello_frame() + body + bp.encode(Req.FRAGMENTS, fragments=[b"x"] * 3),
                  Err.BAD_REQUEST, "more fragments than the 2 announced")
    _expect_error(a, hello_frame() + body + bp.encode(Req.STATUS), Err.BAD_REQUEST, "middle of a submission")
    bad_quorum = bp.encode(Req.SUBMIT, n_fragments=1, redundancy=2, quorum=3, cpu_s=0.0, wall_s=0.0,
                           max_attempts=0, priority=0, max_output_bytes=0, name="")
    _expect_error(a, hello_frame() + bad_quorum, Err.BAD_REQUEST, "quorum (with redundancy=2) must be an integer in [1, 2], got 3")


def test_ack_of_undelivered_result_is_refused(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a"])
    data = hello_frame() + bp.encode(Req.ATTACH, job_id=job.id, from_start=0) + bp.encode(Req.ACK, seq=5)
    _expect_error(fake_server.address, data, Err.BAD_REQUEST, "only results up to seq 0")
    assert fake_hub.jobs[job.id].cursor == 0


def test_a_bad_connection_does_not_disturb_a_streaming_one(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [b"a", b"b"])
        fake_hub.finish(job.id, 0, b"A")
        it = job.results(timeout_s=10)
        assert next(it) == (0, b"A")
        _expect_error(fake_server.address, b"\xff" * 64, Err.TOO_LARGE, "cap")
        fake_hub.finish(job.id, 1, b"B")
        assert list(it) == [(1, b"B")]


def test_stop_closes_open_connections(fake_hub, tmp_path):
    from cpushare_mq.hub.api import BuyerApiServer

    from .fakehub import FakeSpec

    srv = BuyerApiServer(fake_hub, str(tmp_path / "s.sock"), job_spec_factory=FakeSpec).start()
    c = Client(srv.address)
    job = c.submit(PROGRAM, [b"a"])
    errors = []

    def consume():
        try:
            list(job.results())
        except BuyerApiError as exc:
            errors.append(exc)

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    srv.stop()
    t.join(15)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "s.sock").exists()
    assert len(errors) == 1 and "shutting down" in str(errors[0])
    c.close()


def test_address_parsing_refuses_non_loopback_tcp(fake_hub):
    from cpushare_mq.hub.api import BuyerApiServer, parse_address

    assert parse_address("unix:/x/y.sock") == ("unix", "/x/y.sock")
    assert parse_address("/x/y.sock") == ("unix", "/x/y.sock")
    assert parse_address("tcp://127.0.0.1:0") == ("tcp", ("127.0.0.1", 0))
    with pytest.raises(ConfigError, match="not loopback"):
        parse_address("tcp://0.0.0.0:5000")
    with pytest.raises(ConfigError, match="expected tcp://127.0.0.1:PORT"):
        parse_address("tcp://127.0.0.1")
    with pytest.raises(ConfigError, match="longer than 107"):
        BuyerApiServer(fake_hub, "/" + "x" * 200)


def test_tcp_loopback_works(fake_hub, tmp_path):
    from cpushare_mq.hub.api import BuyerApiServer

    from .fakehub import FakeSpec

    token = tmp_path / "hub.db.api-token"
    srv = BuyerApiServer(fake_hub, "tcp://127.0.0.1:0", job_spec_factory=FakeSpec,
                         token_file=str(token)).start()
    try:
        assert srv.address.startswith("tcp://127.0.0.1:") and not srv.address.endswith(":0")
        assert token.stat().st_mode & 0o777 == 0o600
        with Client(srv.address, token_file=token) as c:
            job = c.submit(PROGRAM, [b"q"])
            fake_hub.finish(job.id, 0, b"Q")
            assert list(job.results(timeout_s=10)) == [(0, b"Q")]
    finally:
        srv.stop()


def test_a_second_server_on_a_live_socket_is_refused_and_a_stale_one_replaced(fake_hub, fake_server, tmp_path):
    from cpushare_mq.hub.api import BuyerApiServer

    with pytest.raises(ConfigError, match="already serving"):
        BuyerApiServer(fake_hub, fake_server.address).start()
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ConfigError, match="not a socket"):
        BuyerApiServer(fake_hub, str(tmp_path / "plain")).start()


def test_iteration_can_stop_mid_batch_and_resume(fake_hub, fake_server):
    with Client(fake_server.address) as c:
        job = c.submit(PROGRAM, [bytes([i]) for i in range(10)])
        for i in range(10):
            fake_hub.finish(job.id, i, bytes([i]))
        got = []
        for index, _ in job.results(timeout_s=10):   # the first NEXT brings all 10 at once
            got.append(index)
            if len(got) == 3:
                break
        assert job.progress()["done"] == 10           # control calls work mid-batch
        got += [i for i, _ in job.results(timeout_s=10)]
        assert got == list(range(10))


def test_c_client_over_tcp(fake_hub, short_tmp):
    import subprocess

    from cpushare_mq.hub.api import BuyerApiServer
    from cpushare_mq.native import find_binary

    from .fakehub import FakeSpec

    token = short_tmp / "hub.db.api-token"
    srv = BuyerApiServer(fake_hub, "tcp://127.0.0.1:0", job_spec_factory=FakeSpec,
                         token_file=str(token)).start()
    try:
        prog, inp = short_tmp / "p", short_tmp / "in"
        prog.write_bytes(PROGRAM)
        inp.write_bytes(b"over tcp")
        threading.Timer(0.2, lambda: fake_hub.echo_all("job-1")).start()
        r = subprocess.run([str(find_binary("buyer-test")), "-a", srv.address, "-o", str(short_tmp), str(prog), str(inp)],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "CPUSHARE_API_TOKEN": str(token)})
        assert r.returncode == 0, r.stderr
        assert "result 0 ok 8" in r.stdout and (short_tmp / "0.out").read_bytes() == b"over tcp"
        bad = subprocess.run([str(find_binary("buyer-test")), "-a", "tcp://127.0.0.1", str(prog)],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1 and "expected tcp://HOST:PORT" in bad.stderr
    finally:
        srv.stop()


def test_every_request_type_has_one_handler_and_the_real_hub_is_a_buyer_hub(tmp_path):
    from cpushare_mq.hub import api
    from cpushare_mq.hub.server import Hub

    assert set(api._HANDLERS) == set(Req)
    assert issubclass(Hub, api.BuyerHub)      # the Protocol the buyer socket is typed against


def test_the_socket_file_appears_only_once_it_accepts(fake_hub, tmp_path, monkeypatch):
    """A client that sees the hub's socket file can connect: a hub started in the background
    (the README's 'cpushare-hub serve &') is up once its socket exists. Checked at the one
    moment it could go wrong: right after bind, before listen."""
    import socket as socketmod

    from cpushare_mq.hub.api import BuyerApiServer

    from .fakehub import FakeSpec

    target, seen, plain = str(tmp_path / "s.sock"), [], socketmod.socket

    class ProbeAfterBind(plain):
        def bind(self, address):
            super().bind(address)
            probe = plain(socketmod.AF_UNIX, socketmod.SOCK_STREAM)
            try:
                probe.connect(target)
                seen.append("accepts")
            except FileNotFoundError:
                seen.append("absent")
            except ConnectionRefusedError:
                seen.append("refuses")
            finally:
                probe.close()

    monkeypatch.setattr(socketmod, "socket", ProbeAfterBind)
    srv = BuyerApiServer(fake_hub, target, job_spec_factory=FakeSpec).start()
    monkeypatch.undo()
    try:
        assert seen == ["absent"]
        assert sorted(os.listdir(tmp_path)) == ["s.sock"]     # no staging name left behind
        assert oct(os.stat(target).st_mode & 0o777) == "0o600"
        c = Client(srv.address)
        assert c.status()["jobs"] == []
        c.close()
    finally:
        srv.stop()
