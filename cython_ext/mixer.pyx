# cython: language_level=3
"""Block assembly for the 20 ms media tick: every channel's outgoing bytes in one pass.

A :class:`Mixer` holds spans of G.711 channels laid out as the drivers deliver them:
one channel-major block per span per tick, ``block`` bytes per channel.  Each channel
may have

* a *playback*: a ``bytes`` buffer sent ``block`` bytes a tick from where it left off;
  a looping one starts again at its end within the same block, any other one ends
  there (the rest of that block is silence) and is reported as finished;
* a *peer*: the channel whose incoming bytes it sends (one side of a bridge);
* a *tap*: a ``bytearray`` to which every tick appends its own incoming bytes and its
  peer's, interleaved byte by byte (own, peer, own, peer, ...): G.711 stereo frames
  that decode straight into a WAV file's interleaved samples.

A channel with a peer sends the peer's bytes (its playback, if any, still moves on);
else a playing channel sends its playback; else it sends silence.  A span without a
block this tick is left alone: its channels' playbacks do not move and bridges and
taps that involve it skip the tick.

Contract (stable; appliance.media builds on it):

* ``Mixer(channels, block=160, silence=0xD5)``: ``channels`` per span, in span order.
* ``play(span, channel, audio, loop=False)``, ``stop(span, channel)``,
  ``is_playing(span, channel)``; ``connect(span, channel, peer_span, peer_channel,
  tap=None)``, ``disconnect(span, channel)``.
* ``tick(incoming, tap_limit)`` -> ``(outgoing, finished, full)``: ``incoming`` has one
  ``bytes`` block or None per span; ``outgoing`` one new ``bytes`` block or None per
  span; ``finished`` the ``(span, channel)`` whose playback ended; ``full`` the taps
  holding at least ``tap_limit`` bytes.
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

__all__ = ["Mixer"]


cdef struct Chan:
    const uint8_t* play        # NULL: not playing
    Py_ssize_t play_len
    Py_ssize_t play_pos
    bint play_loop
    int peer_span              # -1: no peer
    Py_ssize_t peer_offset     # the peer's bytes in its span's block
    bint tapped


cdef class Mixer:
    cdef Chan* chans
    cdef int* first            # flat index of each span's channel 0
    cdef int* count            # channels per span
    cdef const uint8_t** inp   # this tick's incoming block per span (NULL: none)
    cdef int spans
    cdef int total
    cdef readonly int block
    cdef uint8_t silence
    cdef list _audio           # flat index -> the bytes being played (keeps them alive)
    cdef list _taps            # flat index -> tap bytearray or None

    def __cinit__(self, channels, int block=160, int silence=0xD5):
        cdef int s, n
        counts = [int(n) for n in channels]
        if block <= 0 or any(n < 0 for n in counts):
            raise ValueError("block and channel counts must be positive")
        self.spans = len(counts)
        self.total = sum(counts)
        self.block = block
        self.silence = <uint8_t>silence
        self.chans = <Chan*>calloc(max(self.total, 1), sizeof(Chan))
        self.first = <int*>calloc(max(self.spans, 1), sizeof(int))
        self.count = <int*>calloc(max(self.spans, 1), sizeof(int))
        self.inp = <const uint8_t**>calloc(max(self.spans, 1), sizeof(uint8_t*))
        if not (self.chans and self.first and self.count and self.inp):
            raise MemoryError()
        n = 0
        for s in range(self.spans):
            self.first[s] = n
            self.count[s] = counts[s]
            n += counts[s]
        for n in range(self.total):
            self.chans[n].peer_span = -1
        self._audio = [None] * self.total
        self._taps = [None] * self.total

    def __dealloc__(self):
        free(self.chans)
        free(self.first)
        free(self.count)
        free(self.inp)

    cdef int _flat(self, int span, int channel) except -1:
        if not (0 <= span < self.spans and 0 <= channel < self.count[span]):
            raise IndexError(f"no channel {channel} on span {span}")
        return self.first[span] + channel

    # -- what the media engine asks -------------------------------------------------------
    def play(self, int span, int channel, bytes audio, bint loop=False):
        """Send ``audio`` from its start (replacing what the channel was playing)."""
        cdef int n = self._flat(span, channel)
        self._audio[n] = audio
        self.chans[n].play = <const uint8_t*>PyBytes_AS_STRING(audio)
        self.chans[n].play_len = PyBytes_GET_SIZE(audio)
        self.chans[n].play_pos = 0
        self.chans[n].play_loop = loop

    def stop(self, int span, int channel):
        cdef int n = self._flat(span, channel)
        self.chans[n].play = NULL
        self._audio[n] = None

    def is_playing(self, int span, int channel):
        return self.chans[self._flat(span, channel)].play != NULL

    def connect(self, int span, int channel, int peer_span, int peer_channel, bytearray tap=None):
        """From now on the channel sends what its peer receives (one side of a bridge);
        ``tap`` collects both directions as stereo G.711 (own, peer)."""
        cdef int n = self._flat(span, channel)
        self._flat(peer_span, peer_channel)
        self.chans[n].peer_span = peer_span
        self.chans[n].peer_offset = <Py_ssize_t>peer_channel * self.block
        self.chans[n].tapped = tap is not None
        self._taps[n] = tap

    def disconnect(self, int span, int channel):
        cdef int n = self._flat(span, channel)
        self.chans[n].peer_span = -1
        self.chans[n].tapped = False
        self._taps[n] = None

    # -- the tick -------------------------------------------------------------------------
    def tick(self, list incoming, Py_ssize_t tap_limit):
        """One block per span in, one block per span out; see the module's contract."""
        cdef int s, c, n
        cdef Py_ssize_t size, need, take, old, i
        cdef int block = self.block
        cdef Chan* ch
        cdef uint8_t* out
        cdef uint8_t* dst
        cdef uint8_t* rec
        cdef const uint8_t* own
        cdef const uint8_t* heard
        cdef list outgoing = [None] * self.spans
        cdef list finished = []
        cdef list full = []
        if len(incoming) != self.spans:
            raise ValueError(f"{len(incoming)} blocks for {self.spans} spans")
        for s in range(self.spans):
            self.inp[s] = NULL
            blk = incoming[s]
            if blk is None:
                continue
            size = <Py_ssize_t>self.count[s] * block
            if not isinstance(blk, bytes) or PyBytes_GET_SIZE(blk) != size:
                raise ValueError(f"span {s}: a block is {size} bytes")
            self.inp[s] = <const uint8_t*>PyBytes_AS_STRING(blk)
        for s in range(self.spans):
            if self.inp[s] == NULL:
                continue
            size = <Py_ssize_t>self.count[s] * block
            ob = PyBytes_FromStringAndSize(NULL, size)
            out = <uint8_t*>PyBytes_AS_STRING(ob)
            memset(out, self.silence, size)
            outgoing[s] = ob
            for c in range(self.count[s]):
                n = self.first[s] + c
                ch = &self.chans[n]
                dst = out + c * block
                if ch.play != NULL:
                    need = block
                    while need > 0 and ch.play_pos < ch.play_len:
                        take = min(need, ch.play_len - ch.play_pos)
                        memcpy(dst + block - need, ch.play + ch.play_pos, take)
                        ch.play_pos += take
                        need -= take
                        if ch.play_pos >= ch.play_len and ch.play_loop:
                            ch.play_pos = 0
                    if ch.play_pos >= ch.play_len:      # the end (or nothing to play)
                        ch.play = NULL
                        self._audio[n] = None
                        finished.append((s, c))
                if ch.peer_span < 0 or self.inp[ch.peer_span] == NULL:
                    continue
                heard = self.inp[ch.peer_span] + ch.peer_offset
                memcpy(dst, heard, block)
                if ch.tapped:
                    tap = self._taps[n]
                    old = PyByteArray_GET_SIZE(tap)
                    PyByteArray_Resize(tap, old + 2 * block)
                    rec = <uint8_t*>PyByteArray_AS_STRING(tap) + old
                    own = self.inp[s] + c * block
                    for i in range(block):
                        rec[2 * i] = own[i]
                        rec[2 * i + 1] = heard[i]
                    if old + 2 * block >= tap_limit:
                        full.append(tap)
        return outgoing, finished, full
