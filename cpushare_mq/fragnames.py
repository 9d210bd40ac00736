"""Fragment names: the name a buyer gives each fragment (the input file's name by default),
kept by the hub and used by every command that writes results (``NAME.out``).

One rule for what a name may be, applied by the client before sending and by the hub before
storing: a plain file name (no ``/``, no NUL or other control character, not ``.`` or
``..``), at most :data:`MAX_NAME_BYTES` bytes of UTF-8.
"""

from __future__ import annotations

from .errors import ConfigError

MAX_NAME_BYTES = 255


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a fragment name, or None."""
    if not isinstance(name, str):
        return f"a fragment name must be text, not {type(name).__name__}"
    if name in ("", ".", ".."):
        return f"{name!r} is not a file name"
    if "/" in name or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return f"{name!r} has a '/' or a control character"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return f"{name[:40]!r}... is longer than {MAX_NAME_BYTES} bytes"
    return None


def check_names(names: list[str], n_fragments: int) -> list[str]:
    """The names, checked: none at all, or one valid, distinct name per fragment."""
    if not names:
        return []
    if len(names) != n_fragments:
        raise ConfigError(f"{len(names)} fragment names for {n_fragments} fragments")
    seen: set[str] = set()
    for i, name in enumerate(names):
        why = name_problem(name)
        if why:
            raise ConfigError(f"fragment {i}: {why}")
        if name in seen:
            raise ConfigError(f"fragment {i}: the name {name!r} is used twice (results would overwrite each other)")
        seen.add(name)
    return list(names)


def result_file_name(name: str, index: int) -> str:
    """The file a result is written to: NAME.out, or INDEX.out for an unnamed fragment (or a
    name a hub sent that is not a plain file name)."""
    return f"{name}.out" if name and name_problem(name) is None else f"{index}.out"
