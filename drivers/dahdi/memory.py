"""An in-process span with no line behind it: whoever holds it feeds and collects blocks.

The tick benchmark and unit tests use it to drive the media engine without sockets;
it speaks the :class:`~drivers.dahdi.interface.SpanMedia` interface like the others.
"""
from __future__ import annotations

from collections import deque

from drivers.dahdi.interface import BLOCK_SAMPLES, IDLE_CODE, ChannelEvent, Mode, SpanMedia

__all__ = ["MemorySpanMedia"]


class MemorySpanMedia(SpanMedia):
    def __init__(self, channels: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES, keep: int | None = None) -> None:
        self.channels = tuple(range(1, channels + 1))
        self.mode, self.blocksize = mode, blocksize
        self.arriving: deque[bytes] = deque()
        self.sent: deque[bytes] = deque(maxlen=keep)   # ``keep`` bounds memory in long runs

    def feed_block(self, block: bytes) -> None:
        """Queue one whole-span block to be read by the next tick."""
        self.arriving.append(block)

    def feed(self, per_channel: dict[int, bytes]) -> None:
        """Queue one block from ``index -> blocksize bytes``; other channels idle."""
        block = bytearray([IDLE_CODE.get(self.mode, 0)]) * (len(self.channels) * self.blocksize)
        for index, data in per_channel.items():
            block[index * self.blocksize:(index + 1) * self.blocksize] = data
        self.arriving.append(bytes(block))

    def fileno(self) -> int:
        return -1

    def read_block(self) -> bytes | None:
        return self.arriving.popleft() if self.arriving else None

    def write_block(self, block: bytes) -> None:
        self.sent.append(block)

    def events(self) -> list[ChannelEvent]:
        return []

    def close(self) -> None:
        self.arriving.clear()
