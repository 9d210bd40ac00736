"""CURVE between a ROUTER and DEALERs using the trust helpers: the right hub key connects,
a wrong one cannot; the ZAP handler refuses keys off the allow-list and banned keys."""

from __future__ import annotations

import zmq

from cpushare_mq.trust.keys import generate_curve_keypair, load_or_create_worker_identity
from cpushare_mq.trust.zap import (
    KeyPolicy,
    describe_handshake_failure,
    peer_curve_key,
    read_key_list,
    write_key_list,
)

from .conftest import Client

HANDSHAKE_OK = {zmq.EVENT_HANDSHAKE_SUCCEEDED}
HANDSHAKE_FAILED = {zmq.EVENT_HANDSHAKE_FAILED_AUTH, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL}


def connect(clients, server, keys, server_public) -> Client:
    c = Client(server.endpoint, keys, server_public)
    clients.append(c)
    return c


def try_send(client: Client, data: bytes) -> None:
    """Send without blocking: after a refused handshake the DEALER may have no pipe left
    (zmq.Again) or queue the message forever; either way it must not reach the server."""
    try:
        client.sock.send(data, zmq.NOBLOCK)
    except zmq.Again:
        pass


def received(server, timeout_ms=300) -> list[zmq.Frame] | None:
    if not server.router.poll(timeout_ms):
        return None
    return server.router.recv_multipart(copy=False)


def test_right_hub_key_connects_and_peer_key_is_authenticated(curve_server, clients, tmp_path):
    ident, _ = load_or_create_worker_identity(tmp_path)
    c = connect(clients, curve_server, ident.curve, curve_server.keys.public)
    assert c.wait_event(HANDSHAKE_OK | HANDSHAKE_FAILED)["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED
    c.sock.send(b"hello")
    frames = received(curve_server, 5000)
    assert frames is not None and frames[1].bytes == b"hello"
    assert peer_curve_key(frames[1]) == ident.curve.public.decode()
    curve_server.router.send_multipart([frames[0].bytes, b"welcome"])
    assert c.sock.poll(5000) and c.sock.recv() == b"welcome"


def test_wrong_hub_key_cannot_connect(curve_server, clients):
    impostor = generate_curve_keypair()
    c = connect(clients, curve_server, generate_curve_keypair(), impostor.public)
    ev = c.wait_event(HANDSHAKE_OK | HANDSHAKE_FAILED)
    assert ev is not None and ev["event"] in HANDSHAKE_FAILED
    assert "hub-key" in describe_handshake_failure(ev["event"], ev["value"])
    try_send(c, b"secret work")
    assert received(curve_server) is None


def test_plain_tcp_client_is_refused_by_curve_server(curve_server, clients):
    c = connect(clients, curve_server, None, None)
    try_send(c, b"plain")
    assert received(curve_server, 1000) is None
    assert curve_server.zap.admitted == 0


def test_allow_list_admits_listed_worker_and_refuses_others(curve_server, clients, tmp_path):
    good, _ = load_or_create_worker_identity(tmp_path / "good")
    other, _ = load_or_create_worker_identity(tmp_path / "other")
    allow = tmp_path / "allow"
    write_key_list(allow, {good.worker_key: "seller alice"}, "allowed workers")
    assert read_key_list(allow) == {good.curve.public.decode()}
    curve_server.policy.set_allow(read_key_list(allow))     # as --allow-workers FILE does

    bad = connect(clients, curve_server, other.curve, curve_server.keys.public)
    ev = bad.wait_event(HANDSHAKE_OK | HANDSHAKE_FAILED)
    assert ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH and ev["value"] == 400
    assert "allow-list" in describe_handshake_failure(ev["event"], ev["value"])
    try_send(bad, b"let me in")
    assert received(curve_server) is None

    ok = connect(clients, curve_server, good.curve, curve_server.keys.public)
    ok.sock.send(b"hi")
    frames = received(curve_server, 5000)
    assert frames is not None and frames[1].bytes == b"hi"
    assert curve_server.zap.refused >= 1


def test_banned_key_is_refused_and_ban_persists(curve_server, clients, tmp_path):
    w, _ = load_or_create_worker_identity(tmp_path / "w")
    first = connect(clients, curve_server, w.curve, curve_server.keys.public)
    first.sock.send(b"before")
    assert received(curve_server, 5000) is not None

    ban_file = tmp_path / "banned-workers"
    persistent = KeyPolicy(ban_file=ban_file)
    assert persistent.ban(w.worker_key, "cheated on fragment 7")
    assert KeyPolicy(ban_file=ban_file).is_banned(w.worker_key)      # survives a restart
    curve_server.zap.policy = persistent

    again = connect(clients, curve_server, w.curve, curve_server.keys.public)
    ev = again.wait_event(HANDSHAKE_OK | HANDSHAKE_FAILED)
    assert ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH
    try_send(again, b"after the ban")
    assert received(curve_server) is None
    assert persistent.unban(w.worker_key) and not KeyPolicy(ban_file=ban_file).is_banned(w.worker_key)


def test_policy_admits_any_key_by_default():
    k = generate_curve_keypair().public.decode()
    assert KeyPolicy().admits(k) == (True, "")
    assert KeyPolicy(allow=[]).admits(k)[0] is False
    assert KeyPolicy(banned=[k]).admits(k) == (False, "key is banned")
