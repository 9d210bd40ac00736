"""ABI v1 framing, sans-I/O: encode input frames, decode a program's output incrementally.

    frame := u32 little-endian payload length | u8 kind | payload

Input (fd 0): 'S' once, then one 'F' per fragment. Output (fd 1), per fragment: zero or more
'D' (result bytes), then 'E' (empty) or 'X' (UTF-8 message). The decoder never buffers a
'D' payload: it hands out the bytes as they arrive, and it refuses a frame whose declared
length is over the fragment's remaining output budget before reading any of it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("<IB")
HEADER_BYTES = HEADER.size
MAX_FRAME_PAYLOAD = 0xFFFFFFFF
MAX_ERROR_MESSAGE_BYTES = 64 * 1024
# A frame costs the runner's decoder far more than a payload byte, and the program next to
# nothing: so the frames of one fragment are bounded by its payload bytes. The first
# FREE_FRAMES frames are free, then each frame needs PAYLOAD_BYTES_PER_FRAME more 'D'
# payload bytes (a POV-Ray tile is one 'D' per row: hundreds of frames of kilobytes; a
# million empty or 1-byte frames are refused after a few thousand).
FREE_FRAMES = 4096
PAYLOAD_BYTES_PER_FRAME = 16

KIND_SHARED = ord("S")
KIND_FRAGMENT = ord("F")
KIND_DATA = ord("D")
KIND_END = ord("E")
KIND_ERROR = ord("X")


def frame_header(kind: str, length: int) -> bytes:
    """The 5-byte header of a frame of ``kind`` ('S', 'F', 'D', 'E' or 'X')."""
    if len(kind) != 1 or kind not in "SFDEX":
        raise ValueError(f"unknown frame kind {kind!r}")
    if not 0 <= length <= MAX_FRAME_PAYLOAD:
        raise ValueError(f"frame payload of {length} bytes does not fit a u32 length")
    return HEADER.pack(length, ord(kind))


def encode_frame(kind: str, payload: bytes = b"") -> bytes:
    """One whole frame (header + payload)."""
    return frame_header(kind, len(payload)) + bytes(payload)


class FrameError(Exception):
    """Raised by :class:`OutputDecoder` when the program's output breaks ABI v1.

    ``outcome`` is ``"protocol_error"`` or ``"output_limit"``.
    """

    def __init__(self, outcome: str, message: str):
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass(frozen=True)
class Data:
    """Result bytes (part or all of a 'D' payload)."""
    data: bytes


@dataclass(frozen=True)
class End:
    """'E': the fragment's result is complete."""


@dataclass(frozen=True)
class Error:
    """'X': the program says the fragment is invalid."""
    message: str


Event = Data | End | Error


class OutputDecoder:
    """Decode one fragment's output (fd 1) incrementally.

    ``feed(bytes)`` returns the events found so far; raises :class:`FrameError` on a bad
    frame, on output over ``max_output_bytes`` (counting 'D' payload bytes), on more frames
    than ``free_frames`` + one per ``PAYLOAD_BYTES_PER_FRAME`` payload bytes (the decoding
    cost stays bounded per byte), and on any byte after the terminating 'E' / 'X' (output for a
    fragment never sent). ``feed_split(bytes)`` is the same but hands those bytes back
    (the pipelined runner keeps them for the next fragment).
    """

    def __init__(self, max_output_bytes: int, free_frames: int = FREE_FRAMES):
        self.max_output_bytes = max_output_bytes
        self.free_frames = free_frames
        self.frames = 0
        self.output_bytes = 0
        self.done = False
        self._header = bytearray()
        self._kind: int | None = None
        self._remaining = 0           # payload bytes still expected for the current frame
        self._message = bytearray()   # 'X' payload being collected

    def feed(self, chunk: bytes) -> list[Event]:
        events, rest = self.feed_split(chunk)
        if rest:
            raise FrameError(
                "protocol_error",
                f"{len(rest)} bytes of output after the fragment's end frame "
                "(output for a fragment never sent)")
        return events

    def feed_split(self, chunk: bytes) -> tuple[list[Event], bytes]:
        """Like :meth:`feed`, but stop at the fragment's end frame ('E' / 'X') and hand back
        the bytes after it instead of refusing them (with pipelining they are the next
        fragment's output). Returns ``(events, rest)``."""
        events: list[Event] = []
        view = memoryview(chunk)
        pos, n = 0, len(view)
        while pos < n and not self.done:
            if self._kind is None:
                take = min(HEADER_BYTES - len(self._header), n - pos)
                self._header += view[pos:pos + take]
                pos += take
                if len(self._header) == HEADER_BYTES:
                    self._start_frame(events)
                continue
            take = min(self._remaining, n - pos)
            piece = view[pos:pos + take]
            pos += take
            self._remaining -= take
            if self._kind == KIND_DATA:
                events.append(Data(bytes(piece)))
            else:
                self._message += piece
            if self._remaining == 0:
                self._finish_frame(events)
        return events, bytes(view[pos:])

    def _start_frame(self, events: list[Event]) -> None:
        length, kind = HEADER.unpack(bytes(self._header))
        self._header.clear()
        self.frames += 1
        if self.frames > self.max_frames:
            raise FrameError(
                "protocol_error",
                f"{self.frames} frames for {self.output_bytes} payload bytes: at most "
                f"{self.free_frames} + one per {PAYLOAD_BYTES_PER_FRAME} bytes")
        if kind == KIND_DATA:
            budget = self.max_output_bytes - self.output_bytes
            if length > budget:
                raise FrameError(
                    "output_limit",
                    f"'D' frame claims {length} bytes; only {budget} of the "
                    f"{self.max_output_bytes}-byte output cap are left")
            self.output_bytes += length
        elif kind == KIND_END:
            if length != 0:
                raise FrameError("protocol_error", f"'E' frame must be empty, it claims {length} bytes")
        elif kind == KIND_ERROR:
            if length > MAX_ERROR_MESSAGE_BYTES:
                raise FrameError(
                    "protocol_error",
                    f"'X' frame claims {length} bytes, over the {MAX_ERROR_MESSAGE_BYTES}-byte "
                    "message limit")
        else:
            shown = chr(kind) if 32 <= kind < 127 else f"\\x{kind:02x}"
            raise FrameError("protocol_error", f"unknown output frame kind {shown!r} (length {length})")
        self._kind = kind
        self._remaining = length
        if length == 0:
            self._finish_frame(events)

    def _finish_frame(self, events: list[Event]) -> None:
        kind, self._kind = self._kind, None
        if kind == KIND_END:
            self.done = True
            events.append(End())
        elif kind == KIND_ERROR:
            self.done = True
            events.append(Error(bytes(self._message).decode("utf-8", errors="replace")))
            self._message.clear()

    @property
    def max_frames(self) -> int:
        """Frames allowed so far (it grows with the payload bytes announced)."""
        return self.free_frames + self.output_bytes // PAYLOAD_BYTES_PER_FRAME

    @property
    def in_frame(self) -> bool:
        """True when a frame was started and not finished (EOF now would be a cut frame)."""
        return self._kind is not None or bool(self._header)
