"""Hostile peers, as separate processes: each attack is a function run in its own Python
process (``python attacker.py ATTACK ENDPOINT [HUB_PUBLIC_KEY]``) so that it shares nothing
with the hub or the test but the network."""

from __future__ import annotations

import ctypes
import select
import struct
import sys
import time
from collections.abc import Callable

import zmq

#: an attack that runs until the test stops it gives up after this long (the test is gone)
UNSTOPPED_CAP_S = 180.0


class _UntilStopped:
    """For attacks started with ``start_attack(..., until_stopped=True)``: true until the
    test writes a line to our stdin (or closes it); exits non-zero if that never comes."""

    def __init__(self) -> None:
        self.cap = time.monotonic() + UNSTOPPED_CAP_S
        self.stopped = False

    def __bool__(self) -> bool:
        if not self.stopped:
            self.stopped = bool(select.select([sys.stdin], [], [], 0)[0])
        if not self.stopped and time.monotonic() > self.cap:
            sys.exit(f"not told to stop within {UNSTOPPED_CAP_S:g} s")
        return not self.stopped


def _glibc_rand_outputs(n: int) -> list[int]:
    """The first ``n`` values of glibc's ``rand()`` without a seed (seed 1), computed by
    calling it in this fresh process (nothing here called rand before)."""
    libc = ctypes.CDLL(None)
    libc.srand(1)
    return [libc.rand() for _ in range(n)]


def predicted_auto_ids(candidates: int = 6, ahead: int = 40) -> list[bytes]:
    """Routing ids libzmq would give the next id-less peers of a ROUTER made in a process
    whose ``rand()`` was never seeded: the counter starts at ``rand() | rand() << 31`` (the
    k-th ROUTER made uses the k-th pair), ids are a zero byte + the big-endian counter."""
    r = _glibc_rand_outputs(2 * candidates + 1)
    ids = []
    for i in range(candidates):
        start = (r[i * 2] | (r[i * 2 + 1] << 31)) & 0xFFFFFFFF
        ids += [b"\x00" + struct.pack(">I", (start + k) & 0xFFFFFFFF) for k in range(ahead)]
    return ids


def _socket(ctx: zmq.Context, hub_key: str | None, routing_id: bytes | None) -> zmq.Socket:
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    if routing_id is not None:
        s.routing_id = routing_id
    if hub_key:
        pub, sec = zmq.curve_keypair()       # a self-made key: the default hub admits any
        s.curve_publickey, s.curve_secretkey = pub, sec
        s.curve_serverkey = hub_key.encode()
    return s


def routing_id_collision(endpoint: str, hub_key: str | None) -> None:
    """Take the ids libzmq would hand out next, then connect id-less sockets (the attack
    of issue 14, item 1)."""
    ctx = zmq.Context()
    socks = []
    for rid in predicted_auto_ids():
        s = _socket(ctx, hub_key, rid)
        s.connect(endpoint)
        socks.append(s)
    time.sleep(1.5)                      # let the handshakes finish
    for _ in range(40):
        s = _socket(ctx, hub_key, None)
        s.connect(endpoint)
        socks.append(s)
        time.sleep(0.01)
    time.sleep(1.5)
    for s in socks:
        s.close(0)
    ctx.term()


def _hello(s: zmq.Socket, name: str, slots: int = 1) -> None:
    from cpushare_mq.protocol import MsgType, encode
    s.send_multipart(encode(MsgType.HELLO, {
        "worker_version": "attacker", "abi_version": 1, "slots": slots, "name": name,
        "worker_key": "", "held": [], "features": []}))


def _errors(s: zmq.Socket, timeout_s: float) -> list[dict]:
    from cpushare_mq.protocol import MsgType, decode
    out = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if s.poll(100):
            msg = decode(s.recv_multipart())
            if msg.type is MsgType.ERROR:
                out.append(msg.body)
    return out


def huge_messages(endpoint: str, hub_key: str | None) -> None:
    """Messages far over any legitimate size: two 60 MiB frames (each over the per-frame
    limit), and many 3 MiB frames (each under it, the message over the per-message limit).
    Exits 0 only if the hub answered the second with ERROR too_large."""
    from cpushare_mq.protocol import MsgType, encode
    ctx = zmq.Context()
    s = _socket(ctx, hub_key, None)
    s.connect(endpoint)
    _hello(s, "huge")
    head = encode(MsgType.RESULT_CHUNK, {"fragment_id": 1, "attempt": 1, "seq": 0}, [b"x"])[:2]
    big = b"\xab" * (60 << 20)
    s.send_multipart([*head, big, big], copy=False)
    del big
    time.sleep(1.0)
    s.close(0)
    s = _socket(ctx, hub_key, None)
    s.connect(endpoint)
    _hello(s, "many-frames")
    frame = b"\xcd" * (3 << 20)
    errors: list[dict] = []
    for _ in range(5):
        # 120 MiB each, one at a time: libzmq buffers a whole message before the hub sees
        # it, so messages sent back to back can all sit in the hub's queue at once (a limit
        # of libzmq's, docs/security.md); the hub's own part is to refuse each uncopied
        s.send_multipart([*head] + [frame] * 40, copy=False)
        errors += _errors_until(s, "too_large", 30.0)
    s.close(0)
    ctx.term()
    if sum(e.get("code") == "too_large" for e in errors) < 5:
        sys.exit(f"not five too_large ERRORs from the hub (errors: {errors})")


def _errors_until(s: zmq.Socket, code: str, timeout_s: float) -> list[dict]:
    """ERROR bodies received until one with ``code`` (or ``timeout_s``)."""
    from cpushare_mq.protocol import MsgType, decode
    out: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not any(e.get("code") == code for e in out):
        if s.poll(100):
            msg = decode(s.recv_multipart())
            if msg.type is MsgType.ERROR:
                out.append(msg.body)
    return out


def _recv_type(s: zmq.Socket, mtype, timeout_s: float):
    from cpushare_mq.protocol import decode
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if s.poll(100):
            msg = decode(s.recv_multipart())
            if msg.type is mtype:
                return msg
    sys.exit(f"no {mtype.name} from the hub within {timeout_s} s")


def fetch_flood(endpoint: str, hub_key: str | None) -> None:
    """Take one lease, FETCH its job's shared input 100 times without reading, hand the
    lease back, then FETCH again every 20 ms (at most 100 times) until the hub refuses one
    as forbidden (it answers a peer's errors up to a budget per second, so the first
    refusal comes once the second of the rate_limited answers has passed). Exits 0 only
    if the hub sent the blob at most twice and refused FETCH after the RELEASE. The hub
    handles one connection's messages in order and answers in order, so every BLOB it
    sends arrives before its first forbidden: reading stops there."""
    from cpushare_mq.protocol import MsgType, decode, encode
    ctx = zmq.Context()
    s = _socket(ctx, hub_key, None)
    s.rcvhwm = 1                         # what we do not read stays queued in the hub
    s.setsockopt(zmq.RCVBUF, 4096)
    s.connect(endpoint)
    _hello(s, "fetcher")
    _recv_type(s, MsgType.WELCOME, 30)
    s.send_multipart(encode(MsgType.READY, {"credit": 1}))
    lease = _recv_type(s, MsgType.LEASE, 30)["leases"][0]
    fetch = encode(MsgType.FETCH, {"sha256": lease["shared_sha256"]})
    for _ in range(100):
        s.send_multipart(fetch)
    s.send_multipart(encode(MsgType.HEARTBEAT, {}))
    s.send_multipart(encode(MsgType.RELEASE, {
        "leases": [[lease["fragment_id"], lease["attempt"]]], "reason": "attack"}))
    blobs, errors = 0, []

    def read(timeout_ms: int) -> None:
        nonlocal blobs
        while "forbidden" not in errors and s.poll(timeout_ms):
            msg = decode(s.recv_multipart())
            if msg.type is MsgType.BLOB:
                blobs += 1
            elif msg.type is MsgType.ERROR:
                errors.append(msg["code"])
            timeout_ms = 0

    for _ in range(100):
        if "forbidden" in errors:
            break
        s.send_multipart(fetch)
        s.send_multipart(encode(MsgType.HEARTBEAT, {}))
        read(20)
    read(2000)
    s.close(0)
    ctx.term()
    if blobs > 2 or "forbidden" not in errors:
        sys.exit(f"hub sent {blobs} copies of the blob; errors {sorted(set(errors))}")


def unfinished_results(endpoint: str, hub_key: str | None) -> None:
    """Take up to 64 leases and send incompressible 1 MiB chunks for each, never a RESULT_END,
    until the test stops it (issue 14, item 3: one worker filling the hub's budget for
    unfinished results starved every other worker)."""
    import os

    from cpushare_mq.protocol import MsgType, compress_chunk, decode, encode
    ctx = zmq.Context()
    s = _socket(ctx, hub_key, None)
    s.connect(endpoint)
    _hello(s, "hoarder", slots=64)
    _recv_type(s, MsgType.WELCOME, 30)
    s.send_multipart(encode(MsgType.READY, {"credit": 64}))
    leases = _recv_type(s, MsgType.LEASE, 30)["leases"]
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and len(leases) < 64:
        s.send_multipart(encode(MsgType.HEARTBEAT, {}))
        if s.poll(100):
            msg = decode(s.recv_multipart())
            if msg.type is MsgType.LEASE:
                leases += msg["leases"]
    chunk = compress_chunk(os.urandom(1 << 20))
    print("attacking", flush=True)
    going = _UntilStopped()
    seq = 0
    while going:
        for lease in leases:
            s.send_multipart(encode(MsgType.RESULT_CHUNK, {
                "fragment_id": lease["fragment_id"], "attempt": lease["attempt"], "seq": seq},
                [chunk]))
        s.send_multipart(encode(MsgType.HEARTBEAT, {}))
        seq += 1
        time.sleep(0.05)
        while s.poll(0):
            s.recv_multipart()
    s.close(0)
    ctx.term()


def false_failures(endpoint: str, hub_key: str | None) -> None:
    """Take leases and answer each with FAILURE fragment_error, over and over, each time
    from a new session (issue 14, item 4: one such report failed a fragment at once, even
    at redundancy 3), until the test stops it. Prints "attacking" once its first lies are
    sent, so the honest workers the test starts then find them already told."""
    from cpushare_mq.outcome import Outcome, OutcomeRecord
    from cpushare_mq.protocol import MsgType, decode, encode
    ctx = zmq.Context()
    going = _UntilStopped()
    lied = False
    while going:
        s = _socket(ctx, hub_key, None)
        s.connect(endpoint)
        _hello(s, "liar", slots=8)
        _recv_type(s, MsgType.WELCOME, 30)
        s.send_multipart(encode(MsgType.READY, {"credit": 8}))
        until = time.monotonic() + 1.0
        while time.monotonic() < until and going:
            if not s.poll(100):
                continue
            msg = decode(s.recv_multipart())
            if msg.type is not MsgType.LEASE:
                continue
            for lease in msg["leases"]:
                s.send_multipart(encode(MsgType.FAILURE, {
                    "fragment_id": lease["fragment_id"], "attempt": lease["attempt"],
                    "outcome": OutcomeRecord(Outcome.FRAGMENT_ERROR, message="lie")}))
            if not lied:
                lied = True
                print("attacking", flush=True)
        s.send_multipart(encode(MsgType.BYE, {"reason": "again"}))
        s.close(0)
    ctx.term()


def vanishing(endpoint: str, hub_key: str | None) -> None:
    """Take leases with one key, then vanish without a word (no BYE, no heartbeat) until the
    hub declares the session dead; again with a new session of the same key, five times
    (issue 14, item 4: each lost or expired lease counted against its fragment, so one key
    exhausted any fragment's attempts alone). After each vanishing it prints
    ``vanished N`` (N: the leases it took) and waits for a line on stdin: the test sends one
    once the hub has recorded those leases as lost, so each round starts when the last one
    has had its effect, not after a guessed sleep."""
    from cpushare_mq.protocol import MsgType, encode
    ctx = zmq.Context()
    key = _worker_key()
    print("attacking", flush=True)
    for _ in range(5):
        s = _socket(ctx, hub_key, None)
        s.connect(endpoint)
        s.send_multipart(encode(MsgType.HELLO, {
            "worker_version": "attacker", "abi_version": 1, "slots": 8, "name": "vanisher",
            "worker_key": key, "held": [], "features": ["signed_failures"]}))
        _recv_type(s, MsgType.WELCOME, 30)
        s.send_multipart(encode(MsgType.READY, {"credit": 8}))
        # the hub grants on READY and sends one turn's grants as one LEASE message
        leases = _recv_type(s, MsgType.LEASE, 30)["leases"]
        s.close(0)                       # gone: the hub must notice by itself
        print(f"vanished {len(leases)}", flush=True)
        if not sys.stdin.readline():
            sys.exit("the test went away")
    ctx.term()


def many_chunks(endpoint: str, hub_key: str | None) -> None:
    """Take one lease and send a 1-byte result as 20,001 chunks (20,000 empty ones), then its
    RESULT_END (issue 14, item 6: each chunk became a stored row)."""
    import hashlib

    from cpushare_mq.outcome import Outcome, OutcomeRecord
    from cpushare_mq.protocol import MsgType, compress_chunk, encode
    ctx = zmq.Context()
    s = _socket(ctx, hub_key, None)
    s.connect(endpoint)
    _hello(s, "chunker")
    _recv_type(s, MsgType.WELCOME, 30)
    s.send_multipart(encode(MsgType.READY, {"credit": 1}))
    lease = _recv_type(s, MsgType.LEASE, 30)["leases"][0]
    print("attacking", flush=True)
    fid, attempt = lease["fragment_id"], lease["attempt"]
    empty = compress_chunk(b"")
    for seq in range(20_000):
        s.send_multipart(encode(MsgType.RESULT_CHUNK,
                                {"fragment_id": fid, "attempt": attempt, "seq": seq}, [empty]))
        if seq % 1000 == 0:
            s.send_multipart(encode(MsgType.HEARTBEAT, {}))
    s.send_multipart(encode(MsgType.RESULT_END, {
        "fragment_id": fid, "attempt": attempt, "chunks": 20_001, "size": 1,
        "sha256": hashlib.sha256(b"x").hexdigest(), "outcome": OutcomeRecord(Outcome.OK)},
        [compress_chunk(b"x")]))
    time.sleep(3.0)
    s.close(0)
    ctx.term()


def _buyer_reply(sock, timeout_s: float = 20.0) -> list[tuple[int, dict]]:
    """Every frame the buyer API sends until it closes the connection."""

    from cpushare_mq import buyer_protocol as bp
    buf = bp.FrameBuffer()
    out = []
    sock.settimeout(timeout_s)
    while True:
        try:
            data = sock.recv(1 << 16)
        except TimeoutError:
            sys.exit("the hub neither answered nor closed the connection")
        except OSError:
            return out
        if not data:
            return out
        out += [(t, bp.decode(t, p).fields) for t, p in buf.feed(data)]


def buyer_without_token(endpoint: str, hub_key: str | None, api: str) -> None:
    """A local user who cannot read the token file: connects to the TCP buyer API with no
    token, a wrong one (same length, shorter, 60 KiB), an older protocol version, and
    requests pipelined after HELLO, round after round until the test stops it (at least one
    whole round); also holds 200 connections that send nothing. Exits 0 only if every try
    got exactly one ERROR (UNAUTHORIZED, or VERSION for the old HELLO) and nothing else
    (issue 14, item 8)."""
    import socket
    import struct

    from cpushare_mq import buyer_protocol as bp
    from cpushare_mq.buyer_protocol import Err, Req
    host, port = api[len("tcp://"):].rsplit(":", 1)
    addr = (host, int(port))

    def hello(token: str) -> bytes:
        return bp.encode(Req.HELLO, magic=bp.MAGIC, version=bp.VERSION, client="x", token=token)

    old = bp.frame(Req.HELLO, bp.MAGIC + struct.pack("<I", 4) + struct.pack("<I", 1) + b"x")
    tries = [(hello(""), Err.UNAUTHORIZED), (hello("0" * 64), Err.UNAUTHORIZED),
             (hello("ab"), Err.UNAUTHORIZED), (hello("f" * 60000), Err.UNAUTHORIZED),
             (old, Err.VERSION)]
    idle = [socket.create_connection(addr, timeout=10) for _ in range(200)]
    print("attacking", flush=True)
    going = _UntilStopped()
    n = 0
    while n == 0 or going:
        for frame, code in tries:
            s = socket.create_connection(addr, timeout=10)
            s.sendall(frame + bp.encode(Req.STATUS) + bp.encode(Req.CANCEL, job_id=""))
            got = _buyer_reply(s)
            s.close()
            n += 1
            if len(got) != 1 or got[0][0] != bp.Rep.ERROR or got[0][1]["code"] != code:
                sys.exit(f"try {n}: expected one ERROR {code.name}, got {got}")
    for s in idle:
        s.close()
    print(f"refused {n} connections", flush=True)


def _worker_key(curve_public: bytes | None = None) -> str:
    """A well-formed worker key: a CURVE public key (self-made unless given) and a fresh
    Ed25519 public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    curve = curve_public or zmq.curve_keypair()[0]
    return curve.decode() + "_" + Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()


def _knock(s: zmq.Socket, key: str) -> None:
    from cpushare_mq.protocol import MsgType, encode
    s.send_multipart(encode(MsgType.HELLO, {
        "worker_version": "attacker", "abi_version": 1, "slots": 1, "name": "knocker",
        "worker_key": key, "held": [], "features": ["signed_failures"]}))


def _count_answers(socks: list, timeout_s: float,
                   enough: Callable[[dict[str, int], list[int]], bool] | None = None
                   ) -> dict[str, int]:
    """The answers that come to ``socks`` in ``timeout_s``, or until ``enough(seen,
    answered)`` (``answered``: the HELLOs answered, WELCOME or rate_limited, per socket)."""
    from cpushare_mq.protocol import MsgType, decode
    seen = {"welcome": 0, "rate_limited": 0, "other": 0}
    answered = [0] * len(socks)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        quiet = True
        for i, s in enumerate(socks):
            while s.poll(0):
                quiet = False
                msg = decode(s.recv_multipart())
                if msg.type is MsgType.WELCOME:
                    seen["welcome"] += 1
                    answered[i] += 1
                elif msg.type is MsgType.ERROR and msg["code"] == "rate_limited":
                    seen["rate_limited"] += 1
                    answered[i] += 1
                else:
                    seen["other"] += 1
        if enough is not None and enough(seen, answered):
            break
        if quiet:
            time.sleep(0.05)
    return seen


def hello_flood(endpoint: str, hub_key: str | None, source: str) -> None:
    """3,000 HELLOs from address ``source`` (issue 14, item 6: each wrote a worker row and a
    log line). Plain hub: 1,500 on one connection with one key, 1,500 with a new key each
    over 30 connections. CURVE hub: 600 connections, each a new self-made key and one HELLO,
    then 2,400 HELLOs on one of them. Holds its connections and counts the answers until the
    test stops it and the hub has answered every HELLO of the flood (plain: all 3,000; CURVE:
    the 2,401 on the connection that carries most of them; the others' handshakes are
    rate-limited, so their HELLOs may never reach it). Prints what came back; exits 0 only
    if some HELLOs were refused as rate-limited."""
    ctx = zmq.Context()
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    src = f"tcp://{source}:0;{host}:{port}"
    socks = []
    print("attacking", flush=True)
    started = time.monotonic()
    if hub_key:
        first_pub = None
        for _ in range(600):
            pub, sec = zmq.curve_keypair()
            first_pub = first_pub or pub
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            s.curve_publickey, s.curve_secretkey = pub, sec
            s.curve_serverkey = hub_key.encode()
            s.connect(src)
            _knock(s, _worker_key(pub))
            socks.append(s)
        same = _worker_key(first_pub)
        for _ in range(2400):
            _knock(socks[0], same)
    else:
        one = ctx.socket(zmq.DEALER)
        one.linger = 0
        one.connect(src)
        socks.append(one)
        same = _worker_key()
        for _ in range(1500):
            _knock(one, same)
        for _ in range(30):
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            s.connect(src)
            socks.append(s)
            for _ in range(50):
                _knock(s, _worker_key())
    going = _UntilStopped()

    def flood_answered(seen: dict[str, int], answered: list[int]) -> bool:
        if hub_key:
            return answered[0] >= 2401
        return sum(answered) >= 3000

    seen = _count_answers(socks, UNSTOPPED_CAP_S,
                          lambda seen, answered: flood_answered(seen, answered) and not going)
    print(f"after {time.monotonic() - started:.1f} s: {seen}", flush=True)
    for s in socks:
        s.close(0)
    ctx.term()
    if not seen["rate_limited"] and not hub_key:
        sys.exit(f"no HELLO was refused as rate-limited: {seen}")


def claim_key(endpoint: str, hub_key: str | None, victim_key: str) -> None:
    """On a plain hub, say HELLO with a connected worker's (public) key and claim every lease
    it might hold (fragments 1..400, attempts 0..3) as ours (issue 14, smaller item: the hub
    handed them over). Exits 0 only if the hub gave none."""
    from cpushare_mq.protocol import MsgType, encode
    ctx = zmq.Context()
    s = _socket(ctx, hub_key, None)
    s.connect(endpoint)
    held = [[fid, attempt] for fid in range(1, 401) for attempt in range(4)]
    s.send_multipart(encode(MsgType.HELLO, {
        "worker_version": "attacker", "abi_version": 1, "slots": 8, "name": "thief",
        "worker_key": victim_key, "held": held, "features": ["signed_failures"]}))
    welcome = _recv_type(s, MsgType.WELCOME, 30)
    s.close(0)
    ctx.term()
    if welcome["held_ok"]:
        sys.exit(f"the hub handed over {len(welcome['held_ok'])} live leases of another "
                 f"worker: {welcome['held_ok'][:10]}")


def poison_hello(endpoint: str, hub_key: str | None, source: str) -> None:
    """From address ``source``, HELLOs whose name holds a lone surrogate (the JSON escape
    ``\\ud800``) until the test stops it: each made the hub's commit fail and cost every
    message of its turn its acknowledgement (issue 14, smaller item). Exits 0 only if the
    hub answered them with ERROR malformed."""
    from cpushare_mq.protocol import MsgType, decode, encode
    ctx = zmq.Context()
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    body = (b'{"worker_version":"x","abi_version":1,"slots":1,"name":"poison \\ud800",'
            b'"worker_key":"","held":[],"features":[]}')
    head = encode(MsgType.HELLO, {}, validate=False)[0]     # our header, any body
    print("attacking", flush=True)
    socks, codes = [], []

    def answers() -> None:
        for t in socks:
            while t.poll(0):
                msg = decode(t.recv_multipart())
                if msg.type is MsgType.ERROR:
                    codes.append(msg["code"])

    going = _UntilStopped()
    while going:
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.connect(f"tcp://{source}:0;{host}:{port}")
        s.send_multipart([head, body])
        socks.append(s)
        time.sleep(0.12)            # under the HELLO limit: every one reaches the hub
        answers()
    deadline = time.monotonic() + 30      # the answers to the last ones sent
    while codes.count("malformed") < len(socks) and time.monotonic() < deadline:
        time.sleep(0.02)
        answers()
    for s in socks:
        s.close(0)
    ctx.term()
    if codes.count("malformed") < len(socks):
        sys.exit(f"the hub refused {codes.count('malformed')} of {len(socks)} poisoned "
                 f"HELLOs (errors: {sorted(set(codes))})")


def _join(ctx: zmq.Context, endpoint: str, hub_key: str | None, name: str,
          features: list[str]) -> zmq.Socket:
    """A worker session with a self-made key (the default hub admits any): HELLO, WELCOME."""
    from cpushare_mq.protocol import MsgType, encode
    pub, sec = zmq.curve_keypair()
    s = ctx.socket(zmq.DEALER)
    s.linger, s.sndtimeo = 0, 1000
    if hub_key:
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, hub_key.encode()
    s.connect(endpoint)
    s.send_multipart(encode(MsgType.HELLO, {
        "worker_version": "attacker", "abi_version": 1, "slots": 1, "name": name,
        "worker_key": _worker_key(pub), "held": [], "features": features}))
    _recv_type(s, MsgType.WELCOME, 30)
    return s


def idle_peer(endpoint: str, hub_key: str | None) -> None:
    """Join as a worker of another key and never ask for work, only stay alive, until the
    test stops it (such a peer counted as the verifier a spot check waits for, so every
    spot-checked fragment of an honest worker waited in VOTING for good)."""
    from cpushare_mq.protocol import MsgType, encode
    ctx = zmq.Context()
    s = _join(ctx, endpoint, hub_key, "idler", ["signed_failures"])
    print("attacking", flush=True)
    stop = _UntilStopped()
    while stop:
        s.send_multipart(encode(MsgType.HEARTBEAT, {}))
        time.sleep(0.2)
    s.close(0)
    ctx.term()


def receipt_ack_flood(endpoint: str, hub_key: str | None) -> None:
    """Join as a worker that takes receipts (a self-made key), then acknowledge receipts
    that were never sent, 256 made-up fragment ids a message, as fast as the hub reads them,
    until the test stops it (each such id was decoded, kept by the hub's ledger until its
    next signing and written there: memory and a busy loop at one peer's will). Prints the
    messages sent; exits 0 if the hub refused them as unasked for."""
    import random

    from cpushare_mq.protocol import MsgType, decode, encode
    ctx = zmq.Context()
    s = _join(ctx, endpoint, hub_key, "acker", ["signed_failures", "receipts", "receipt_batches"])
    print("attacking", flush=True)
    rng, stop, sent, refused = random.Random(14), _UntilStopped(), 0, 0
    heartbeat, beat_at = encode(MsgType.HEARTBEAT, {}), 0.0
    while stop:
        ack = encode(MsgType.RECEIPT_ACK, {"fragment_ids": [rng.randrange(2**62)
                                                            for _ in range(256)]})
        try:
            for _ in range(50):
                s.send_multipart(ack)
                sent += 1
            if time.monotonic() >= beat_at:      # (alive, within the heartbeat limit)
                s.send_multipart(heartbeat)
                beat_at = time.monotonic() + 0.2
        except zmq.Again:                # the hub reads no faster: its share, not more
            pass
        while s.poll(0):
            msg = decode(s.recv_multipart())
            refused += msg.type is MsgType.ERROR and "none is waiting" in msg.body["message"]
    print(f"sent {sent} acknowledgements, {refused} refused (answers are rate-limited)",
          flush=True)
    s.close(0)
    ctx.term()
    if sent < 1000 or not refused:
        sys.exit("the flood did not go out, or the hub did not refuse it")


ATTACKS = {"receipt-ack-flood": receipt_ack_flood, "idle-peer": idle_peer, "vanishing": vanishing, "poison-hello": poison_hello, "claim-key": claim_key, "hello-flood": hello_flood, "buyer-without-token": buyer_without_token, "many-chunks": many_chunks, "false-failures": false_failures, "unfinished-results": unfinished_results, "fetch-flood": fetch_flood, "routing-id-collision": routing_id_collision, "huge-messages": huge_messages}

if __name__ == "__main__":
    ATTACKS[sys.argv[1]](sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None) or None,
                         *sys.argv[4:])
