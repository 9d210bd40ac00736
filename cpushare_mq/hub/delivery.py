"""What a buyer receives of a result: the store keeps result chunks zstd-compressed exactly
as workers sent them and decodes nothing; this is where they become the buyer's bytes
(each chunk decompressed under :attr:`Limits.CHUNK_RAW_CAP`). Pure: no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from ..errors import DecompressionError
from ..limits import Limits
from ..protocol import decompress_chunk
from .store import FinishedFragment

__all__ = ["decoded_chunks", "with_inline_data"]


def decoded_chunks(stored: Iterable[bytes]) -> Iterator[bytes]:
    """A result's stored chunks, decompressed one by one (DecompressionError if corrupt)."""
    for chunk in stored:
        yield decompress_chunk(chunk, Limits.CHUNK_RAW_CAP)


def with_inline_data(rows: list[FinishedFragment]) -> list[FinishedFragment]:
    """The store's finished rows with each small one-chunk result decoded into ``data``;
    a chunk that does not decode to the announced size is left to ``result_chunks`` (which
    reports it), as is every bigger result."""
    out = []
    for f in rows:
        if f.chunk is None:
            out.append(f)
            continue
        try:
            data: bytes | None = decompress_chunk(f.chunk, Limits.CHUNK_RAW_CAP)
        except DecompressionError:
            data = None
        if data is not None and len(data) != f.size:
            data = None
        out.append(dataclasses.replace(f, data=data, chunk=None))
    return out
