"""Span media on a line that ticks: channels finish their 20 ms blocks at different moments.

The fake kernel's ``run_line`` fills each open channel's receive buffer 8 samples a
millisecond as dahdi_receive() does, so each channel's block ends where its own buffer last
restarted; ``ms_per_call`` lets line time pass during the backend's ioctls, as in a slow
guest.  The reader here is what the service's event loop does: read when ``fileno()``
polls readable.
"""
from __future__ import annotations

from tests.drivers.dahdi.fakedahdi import backend, kernel, line_bytes  # backend and kernel are fixtures

E1_BEARERS = [*range(1, 16), *range(17, 32)]
BLOCK = 160


def read_as_event_loop(kernel, media, ms: int) -> list[bytes]:
    """Run the line ``ms`` ms, reading each time ``media.fileno()`` polls readable.

    A read that finds no complete span block must leave the media not readable: an
    event loop would otherwise call it again at once, for ever.
    """
    blocks = []
    for _ in range(ms):
        kernel.run_line(1)
        while kernel.readable(media.fileno()):
            block = media.read_block()
            if block is None:
                assert not kernel.readable(media.fileno()), "nothing complete, yet the media polls readable"
                break
            blocks.append(block)
    return blocks


def per_channel(blocks: list[bytes], channels: int) -> list[bytes]:
    return [b"".join(block[i * BLOCK:(i + 1) * BLOCK] for block in blocks) for i in range(channels)]


def line_start(kernel, channo: int, stream: bytes) -> int:
    """The line sample ``stream`` starts at, checking it is the line's audio from there on, whole."""
    starts = [s for s in range(0, kernel.line_samples, 8) if line_bytes(channo, s, 16) == stream[:16]]
    assert starts, f"channel {channo}: the first samples read are not on the line (fill?)"
    expected = line_bytes(channo, starts[0], len(stream))
    first_bad = next((i for i, (a, b) in enumerate(zip(stream, expected)) if a != b), None)
    assert first_bad is None, (f"channel {channo}: the audio read breaks off from the line at byte "
                               f"{first_bad} (block {first_bad // BLOCK})")
    return starts[0]


def test_opens_spread_over_the_line_still_start_every_channel_in_phase(backend, kernel):
    kernel.ms_per_call = {"SPECIFY": 2}            # 30 opens take 60 ms of line
    media = backend.open_span_media(1, "alaw")
    opened_at = kernel.line_samples
    blocks = read_as_event_loop(kernel, media, 200)
    assert len(blocks) == 10
    streams = per_channel(blocks, 30)
    assert [line_start(kernel, c, s) for c, s in zip(E1_BEARERS, streams)] == [opened_at] * 30
    assert media.partial_reads == 0                 # every block was whole at the first wake-up
    media.close()


def test_channels_out_of_phase_are_gathered_whole_with_nothing_filled_in(backend, kernel):
    # opening and even the lining-up take line time: phases end up spread over 15 ms
    kernel.ms_per_call = {"SPECIFY": 0.5, "FLUSH": 0.5}
    media = backend.open_span_media(1, "alaw")
    blocks = read_as_event_loop(kernel, media, 400)
    streams = per_channel(blocks, 30)
    starts = [line_start(kernel, c, s) for c, s in zip(E1_BEARERS, streams)]
    assert max(starts) - min(starts) >= 8 * 8        # phases really were spread
    assert len(blocks) >= 18
    assert media.partial_reads > 0
    assert sum(kernel.chans[c].overrun_samples for c in E1_BEARERS) == 0
    media.close()


def test_a_late_channel_holds_the_span_and_the_early_ones_wait(backend, kernel):
    media = backend.open_span_media(1, "alaw")
    for channo in E1_BEARERS:
        if channo != 5:
            kernel.deliver(channo, bytes([channo]) * BLOCK)
    assert media.read_block() is None
    assert media.partial_reads == 1
    kernel.deliver(1, b"\x99" * BLOCK)              # channel 1's next block: still waiting on 5
    assert not kernel.readable(media.fileno())
    kernel.deliver(5, b"\x05" * BLOCK)
    assert kernel.readable(media.fileno())
    block = media.read_block()
    assert block == b"".join(bytes([c]) * BLOCK for c in E1_BEARERS)
    assert kernel.readable(media.fileno())          # channel 1's next block counts again
    assert media.read_block() is None
    assert not kernel.chans[1].rx                   # taken and held, not lost
    for channo in E1_BEARERS[1:]:
        kernel.deliver(channo, b"\x77" * BLOCK)
    assert media.read_block() == b"\x99" * BLOCK + b"\x77" * BLOCK * 29
    media.close()


def test_a_short_read_is_padded_with_silence_and_counted(backend, kernel):
    media = backend.open_span_media(1, "alaw")
    for channo in E1_BEARERS:
        kernel.deliver(channo, b"\x01" * (100 if channo == 7 else BLOCK))
    block = media.read_block()
    assert block[6 * BLOCK:6 * BLOCK + 100] == b"\x01" * 100
    assert block[6 * BLOCK + 100:7 * BLOCK] == b"\xd5" * 60
    media.close()


def test_a_reader_that_fell_behind_gets_whole_blocks_again(backend, kernel):
    media = backend.open_span_media(1, "alaw")
    kernel.run_line(300)                            # 15 blocks; 4 buffers: the rest is dropped
    assert kernel.chans[1].overrun_samples > 0
    blocks = read_as_event_loop(kernel, media, 200)
    assert len(blocks) >= 4 + 9
    after = per_channel(blocks[4:], 30)             # what came after the overrun
    starts = {line_start(kernel, c, s) for c, s in zip(E1_BEARERS, after)}
    assert len(starts) == 1                         # read together, so back in phase together
    media.close()


def test_the_ready_set_closes_with_the_media(backend, kernel):
    media = backend.open_span_media(2, "ulaw")
    assert kernel.files[media.fileno()].kind == "ready"
    media.close()
    assert kernel.files == {}
