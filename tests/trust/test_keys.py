"""Key files: creation with owner-only modes, refusal when others can read, parsing."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.errors import ConfigError, ProtocolError
from cpushare_mq.trust.errors import BadWorkerKey, InsecureKeyFile, KeyFileError
from cpushare_mq.trust.keys import (
    CurveKeyPair,
    WorkerIdentity,
    ensure_hub_keys,
    generate_curve_keypair,
    load_hub_keys,
    load_or_create_worker_identity,
    load_worker_identity,
    parse_worker_key,
    read_public_key,
    write_hub_keys,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keygen_writes_owner_only_secret_and_public(tmp_path):
    out = tmp_path / "keys"
    kp = write_hub_keys(out)
    assert mode(out / "hub.key") == 0o600
    assert mode(out / "hub.pub") == 0o644
    assert mode(out) == 0o700
    assert (out / "hub.pub").read_text().strip() == kp.public.decode()
    assert kp.secret.decode() not in (out / "hub.pub").read_text()
    again = load_hub_keys(out)
    assert again == kp


@pytest.mark.parametrize("bad_mode", [0o640, 0o604, 0o644, 0o660, 0o601])
def test_secret_key_readable_by_others_is_refused(tmp_path, bad_mode):
    write_hub_keys(tmp_path)
    os.chmod(tmp_path / "hub.key", bad_mode)
    with pytest.raises(InsecureKeyFile, match="chmod 600"):
        load_hub_keys(tmp_path)
    with pytest.raises(ConfigError):          # the project-wide base class catches it too
        ensure_hub_keys(tmp_path)


def test_keygen_refuses_to_replace_existing_keys(tmp_path):
    first = write_hub_keys(tmp_path)
    with pytest.raises(KeyFileError, match="already exists"):
        write_hub_keys(tmp_path)
    assert load_hub_keys(tmp_path) == first
    second = write_hub_keys(tmp_path, overwrite=True)
    assert second != first and load_hub_keys(tmp_path) == second


def test_ensure_creates_once_then_loads_the_same_pair(tmp_path):
    kp, created = ensure_hub_keys(tmp_path / "k")
    assert created
    kp2, created2 = ensure_hub_keys(tmp_path / "k")
    assert not created2 and kp2 == kp


def test_secret_key_created_0600_even_with_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        write_hub_keys(tmp_path)
        ident, _ = load_or_create_worker_identity(tmp_path / "w")
    finally:
        os.umask(old)
    assert mode(tmp_path / "hub.key") == 0o600
    assert mode(tmp_path / "w" / "worker.key") == 0o600


@pytest.mark.parametrize("text, what", [
    ("", "no 'public-key'"),
    ("public-key = abc\nsecret-key = def\n", "40 Z85"),
    ("garbage line\n", "name = value"),
])
def test_malformed_key_file_names_the_problem(tmp_path, text, what):
    path = tmp_path / "hub.key"
    path.write_text(text)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match=what):
        load_hub_keys(tmp_path)


def test_secret_not_matching_public_is_refused(tmp_path):
    a, b = generate_curve_keypair(), generate_curve_keypair()
    path = tmp_path / "hub.key"
    path.write_text(f"public-key = {a.public.decode()}\nsecret-key = {b.secret.decode()}\n")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="does not belong"):
        load_hub_keys(tmp_path)


def test_repr_never_shows_the_secret():
    kp = generate_curve_keypair()
    assert kp.secret.decode() not in repr(kp)
    ident = WorkerIdentity.generate()
    assert ident.curve.secret.decode() not in repr(ident)
    assert ident.sign_seed.hex() not in repr(ident)


def test_hub_key_argument_accepts_key_pub_file_or_key_file(tmp_path):
    kp = write_hub_keys(tmp_path)
    assert read_public_key(kp.public.decode()) == kp.public
    assert read_public_key(str(tmp_path / "hub.pub")) == kp.public
    assert read_public_key(str(tmp_path / "hub.key")) == kp.public
    with pytest.raises(KeyFileError, match="neither"):
        read_public_key(str(tmp_path / "missing.pub"))
    (tmp_path / "bad.pub").write_text("not a key\n")
    with pytest.raises(KeyFileError):
        read_public_key(str(tmp_path / "bad.pub"))


def test_worker_identity_created_on_first_start_and_stable(tmp_path):
    cfg = tmp_path / "cfg"
    ident, created = load_or_create_worker_identity(cfg)
    assert created and mode(cfg / "worker.key") == 0o600
    again, created2 = load_or_create_worker_identity(cfg)
    assert not created2 and again.worker_key == ident.worker_key
    assert (cfg / "worker.pub").read_text().strip() == ident.worker_key
    parsed = parse_worker_key(ident.worker_key)
    assert parsed.curve_public == ident.curve.public
    assert parsed.sign_public == ident.sign_public
    os.chmod(cfg / "worker.key", 0o644)
    with pytest.raises(InsecureKeyFile):
        load_worker_identity(cfg)


def test_two_workers_get_different_identities(tmp_path):
    a, _ = load_or_create_worker_identity(tmp_path / "a")
    b, _ = load_or_create_worker_identity(tmp_path / "b")
    assert a.worker_key != b.worker_key


@given(st.text(max_size=200))
def test_parse_worker_key_rejects_garbage_cleanly(text):
    try:
        key = parse_worker_key(text)
    except BadWorkerKey:
        return
    assert isinstance(key.curve_public, bytes) and len(key.sign_public) == 32


def test_bad_worker_key_is_a_protocol_error():
    assert issubclass(BadWorkerKey, ProtocolError)
    with pytest.raises(BadWorkerKey, match="64 hex"):
        parse_worker_key(generate_curve_keypair().public.decode() + "_abcd")


def test_curve_keypair_validation():
    with pytest.raises(KeyFileError):
        CurveKeyPair(b"short", b"short")
