"""Routing ids a peer cannot predict: the guard against libzmq's routing-id collision abort.

A libzmq ROUTER gives each peer that sends no routing id of its own an automatic one: a zero
byte and a 32-bit counter whose start is taken from the C library's ``rand()`` when the
socket is made. A peer may also choose its own id, and libzmq checks a chosen id against the
ids in use but never checks an automatic one: a peer holding the id the counter reaches next
makes libzmq abort the whole process (``Assertion failed: ok (src/socket_base.cpp:2113)``)
when the next id-less peer connects. Nothing in libzmq 4.3 lets the application refuse chosen
ids (the ZAP request does not carry the peer's id), so the hub keeps the counter's start
secret: ``rand()`` is seeded from the operating system's random source right before the
ROUTER is made. Unseeded, ``rand()`` starts every process at the same value, so any hub
could be killed by one peer that knows glibc; seeded, a peer must guess a 32-bit start
(docs/security.md gives the odds).
"""

from __future__ import annotations

import ctypes
import os
import threading

import zmq

from ..errors import ConfigError

_lock = threading.Lock()


def _libc_srand():
    try:
        fn = ctypes.CDLL(None).srand
    except (OSError, AttributeError) as exc:
        raise ConfigError(f"cannot find the C library's srand() to seed libzmq's routing "
                          f"ids: {exc}") from exc
    fn.argtypes = [ctypes.c_uint]
    fn.restype = None
    return fn


def router_socket(ctx: zmq.Context) -> zmq.Socket:
    """A new ROUTER on ``ctx`` whose automatic routing ids start at a secret random value."""
    srand = _libc_srand()
    with _lock:
        srand(int.from_bytes(os.urandom(4), "little"))
        return ctx.socket(zmq.ROUTER)
