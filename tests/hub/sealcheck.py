"""What the scheduler hands out holds no live core object: frozen dataclasses, enums and
plain values (containers of them) only. Used by the scheduler state machine after every
step, so every kind of event's effects and leases are checked."""

from __future__ import annotations

import dataclasses
import enum

PLAIN = (str, bytes, int, float, bool, type(None), enum.Enum)


def assert_sealed(value, path: str = "value") -> None:
    if isinstance(value, PLAIN):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = type(value).__dataclass_params__
        if not params.frozen or not hasattr(type(value), "__slots__"):
            raise AssertionError(f"{path}: {type(value).__name__} is not a frozen slots record")
        for f in dataclasses.fields(value):
            assert_sealed(getattr(value, f.name), f"{path}.{f.name}")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            assert_sealed(k, f"{path} key")
            assert_sealed(v, f"{path}[{k!r}]")
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            assert_sealed(v, f"{path}[{i}]")
        return
    raise AssertionError(f"{path}: a {type(value).__module__}.{type(value).__name__} left the core")
