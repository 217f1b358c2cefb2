# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""DTMF receiver meeting ITU-T Q.24 / Bellcore TR-TSY-000763, for one channel or whole spans.

API::

    from cython_ext.dtmf import DtmfDetector, MultiChannelDtmf
    det = DtmfDetector(sample_rate=8000)          # keyword thresholds: see THRESHOLDS
    events = det.feed(buf)    # int16 samples (or G.711 bytes with law="alaw"/"ulaw")
    events += det.flush()     # end of stream: the digit still sounding, if any
    [(e.digit, e.start, e.end) for e in events]   # sample indices from the stream start

    span = MultiChannelDtmf(30)                    # channel-major blocks: 30 runs of n samples
    for channel, event in span.feed(block): ...

How it works, and why not the usual 102-sample Goertzel blocks:

* Analysis runs on sub-blocks of 4 ms (32 samples at 8 kHz).  Each sub-block is
  demodulated at the eight DTMF frequencies (a 32-point single-bin DFT each, the
  sub-block mean removed so DC offsets vanish) and rotated onto a common phase
  reference, so sub-block results can be summed coherently.
* Every 4 ms a 16 ms window (the last 4 sub-blocks) is judged: strongest row and
  column, each clear of its group (relative peak); both tones' frequencies from
  the phase advance between successive windows (this is what rejects a tone 3.5 %
  off while accepting one 1.5 % off, with no need for very narrow filters); both
  amplitudes re-summed with that frequency error taken out and the other tone's
  leakage (and both images) subtracted in closed form; the level, the twist and
  the two tones' share of the window's energy; and a column tone at exactly twice
  the row tone (partials 1:2 of one voice, never a DTMF pair) is refused.
* A digit needs three passing windows, and passes in at least a third of the
  windows that lie wholly inside it; steady windows that find the same tones off
  frequency veto it.  Over its steady windows at full level its two tones must
  hold 94 % of the energy (79 % when the audio clips), measured against the
  energy of the two tones as fitted (amplitude, phase, frequency), which takes
  their beating into account and makes the share exact to about 1 %.  That is
  what keeps speech and music out: a voice whose two strongest partials land
  near a DTMF pair still spreads 7 % or more of its energy over its other
  partials.  The price is talk-down: speech 10 dB under a digit is enough to
  hide it (see the talk-down report in the tests).
* Timing is decided at the 4 ms sub-block level from the two tones' amplitude
  relative to their steady level: a sub-block is "present" at half amplitude or
  more, and a partly covered edge sub-block counts for the fraction it covers.
  So the measured duration is level-independent to about a millisecond: 40 ms
  tones pass and 23 ms tones fail a 31.5 ms limit with wide margins, a 10 ms
  dropout (at most 3 absent sub-blocks) is bridged, and a 40 ms gap (9 or more)
  splits; the split limit is 6 sub-blocks.
* A digit is reported once it has ended (24 ms of absence, or flush()), with its
  start and end; ``report_start=True`` also reports its start (``end`` None) as
  soon as it passes every test on what has been heard so far.

The per-sample work is one 16-wide multiply-accumulate (8 tones x re/im) plus the
sub-block energy; the window logic runs once per sub-block and usually exits at
the first level test.  The exact energy share is measured once per digit, when
it has passed every other test, in a fast form (``_dtmf_fit.h``: phasor products
instead of 76 sin/cos calls per window) that hands over to the reference form
whenever its figures come within 1e-4 of a threshold, so the verdicts are the
reference's.  MultiChannelDtmf runs all channels of a block in one call with
shared tables and phase references, without the GIL (so spans on other threads
run meanwhile); one instance must not be fed from two threads at once.
"""
from collections import namedtuple

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdlib cimport free, realloc
from libc.math cimport M_PI, atan2f, cos, fabs, fabsf, lround, pow, sin, sqrt
from libc.stdint cimport int16_t, int64_t, uint8_t
from libc.string cimport memcpy, memset

from cython_ext import g711 as _g711


cdef extern from "_dtmf_kernel.h":
    # One sub-block: 16 DFT sums, then sum, energy, clipped-sample count (C, vectorised).
    void dtmf_subblock(const float* x, int n, const float* basis, float* out) noexcept nogil

cdef extern from "_dtmf_fit.h":
    # The energy share's fast form: a kept window's level and fitted energy (see _share_passes).
    ctypedef struct dtmf_fit_table:
        pass
    void dtmf_fit_init(dtmf_fit_table* tab, const double* bins, int H, int win) noexcept nogil
    void dtmf_fit(const dtmf_fit_table* tab, const float* sums, const float* u, int row, int col,
                  const float* rot, double* level, double* energy) noexcept nogil

__all__ = ["DtmfEvent", "DtmfDetector", "MultiChannelDtmf", "THRESHOLDS", "DIGITS"]

#: A detected digit: ``digit`` one of ``0-9*#ABCD``; ``start``/``end`` sample indices
#: from the start of the stream (end exclusive).
DtmfEvent = namedtuple("DtmfEvent", "digit start end", module=__name__)   # picklable
cdef object _DtmfEvent = DtmfEvent

#: Keypad order used internally: DIGITS[row * 4 + column].
DIGITS = "123A456B789C*0#D"
cdef tuple _DIGIT_STRINGS = tuple(DIGITS)
cdef object _new_event = tuple.__new__       # tuple.__new__(DtmfEvent, fields): no Python-level __new__

#: Keyword thresholds accepted by both detectors, with their defaults.
THRESHOLDS = {
    "min_level_dbm0": -42.0,      # weakest tone accepted (Q.24 asks for -36)
    "twist_standard_db": 10.0,    # high group weaker than low by at most this (Q.24: 8)
    "twist_reverse_db": 6.0,      # high group stronger than low by at most this (Q.24: 4)
    "freq_tolerance_pct": 2.5,    # both tones within this of nominal (accept 1.5, reject 3.5)
    "energy_fraction": 0.94,      # share of the digit's energy in its two tones
    "relative_peak_db": 8.0,      # each tone above the rest of its group by this
    "min_duration_ms": 31.5,      # shortest tone reported (accept 40, reject 23)
    "split_gap_ms": 24.0,         # an absence this long ends a digit (bridge 10, split 40)
}

cdef enum:
    NTONES = 8
    NBINS = 16           # 8 tones x (re, im)
    RING = 16            # sub-blocks of history per channel (power of two)
    WIN = 4              # sub-blocks per judged window
    MIN_VALID = 3        # windows that must pass every test for a digit to count
    SCAN_BACK = 10       # sub-blocks searched backwards for a digit's onset
    OFF_FREQ = -2        # window verdict: OFF_FREQ - digit, see _window_digit
    KEEP = 3             # steady windows measured exactly per digit

cdef double _TONES[NTONES]
_TONES[:] = [697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0]
cdef double _FULL_SCALE_DBM0 = 3.14
cdef float COHERENCE = 0.85      # |sum S|^2 / (sum |S|)^2 of a steady window
cdef float FULL_LEVEL = 0.9       # power within 0.5 dB of a digit's strongest window
cdef float AMP_STEADY = 2.0       # a tone's power may vary 3 dB over its steady windows
cdef float HARMONIC_TOL = 0.006  # column this close to twice the row: one voice's harmonics

cdef enum:
    IDLE = 0
    ACTIVE = 1

# How the digit's energy share is decided (see _share_passes): from the fast form,
# with the reference asked when the fast figures are this close to a threshold...
cdef double SHARE_MARGIN = 1e-4
cdef enum:
    SHARE_CHECKED = 0       # ...the default
    SHARE_REFERENCE = 1     # the reference form alone (tests compare against it)
    SHARE_FAST = 2          # the fast form alone (tests: it is right by itself)
_SHARE_MODES = {"checked": SHARE_CHECKED, "reference": SHARE_REFERENCE, "fast": SHARE_FAST}


cdef struct Kept:
    # A steady window kept for the digit's energy share, measured only if the digit
    # passes everything else (see _share_passes).
    float sums[4]               # row, column window sums, frequency error taken out
    float angles[2]             # their phase advance per sub-block (radians)
    float rot[4]                # row, column phase reference at the newest sub-block
    float energy                # the window's energy


cdef struct Chan:
    float ring[RING][NBINS]     # rotated sub-block spectra, newest at m & (RING-1)
    float energy[RING]          # sub-block energy with its mean removed
    uint8_t clipped[RING]       # sub-block has a sample at full scale
    int state
    int digit                   # row * 4 + column while ACTIVE
    int other_digit             # a different digit seen while ACTIVE...
    int other_count             # ...in this many consecutive windows
    int valid                   # windows that passed every test
    int off_freq                # windows of the same tones found off frequency
    int off_run                 # consecutive absent sub-blocks
    int present_run             # consecutive present sub-blocks
    int windows                 # windows lying wholly within the digit's presence
    int64_t last_present        # index of the last present sub-block
    double start                # onset, in samples
    float amp2[2]               # steady per-sub-block power of the row, column tone
    int n_kept                  # steady windows kept (up to KEEP) for the energy share
    Kept kept[KEEP]
    bint clipped_digit          # one of those windows was clipped
    float amp_low[2]            # weakest and strongest row, column tone power
    float amp_high[2]           # over the steady windows
    int last_verdict            # previous window's verdict...
    float last_advance[4]       # ...and its row, column phase advance (unit complex)
    bint started                # the digit's start has been reported (report_start)
    int share_key               # the energy share's verdict is known for this state...
    bint share_ok               # ...and is this (see _share_verdict)


cdef struct Found:
    # An event found without the GIL, made a DtmfEvent once the span is done.
    int channel
    int digit
    int64_t start
    int64_t end                 # NO_END: a start (report_start)


cdef int64_t NO_END = -1


cdef struct Window:
    # What the judged window found for its strongest row and column tones.
    float amp2[2]               # per-sub-block power of the row, column tone
    float advance[4]            # their phase advance per sub-block, unit complex
    float sums[4]               # row, column window sums, frequency error taken out
    float angles[2]             # their phase advance per sub-block (radians)
    int row, col                # the tones (0..7)
    float energy                # the window's total energy
    bint clipped                # a sample in the window reached full scale
    bint coherent               # both tones kept one phase across the window


cdef struct Config:
    int H                       # samples per sub-block
    float basis[256][NBINS]     # per sample of a sub-block: cos, -sin of each tone
    float dc[NBINS]             # sum of basis over a sub-block: what a unit DC adds
    double step[NTONES][2]      # phase-reference rotation per sub-block
    float p_quick               # level gate before any other work
    float p_min                 # compensated window power of the weakest tone
    float quick_fraction
    float fraction              # per window, lenient: share of the energy in the two tones
    float half_window           # N/2: |W|^2 / (N/2) is a tone's energy
    float digit_fraction        # over the whole digit (plain ratio)
    float clip_allowance        # both fractions are lowered by this when clipped
    float twist_std             # linear power ratios
    float twist_rev
    float rel_peak
    float tan_tol[NTONES]       # tangent of the largest phase advance per sub-block
    double min_samples
    int split_run
    float hz_per_radian         # frequency error per radian of phase advance per sub-block
    dtmf_fit_table fit          # the energy share's fast form


cdef inline float _sq(float re, float im) noexcept nogil:
    return re * re + im * im


cdef inline void _cmul(const double* a, const double* b, double* out) noexcept nogil:
    cdef double re = a[0] * b[0] - a[1] * b[1]
    out[1] = a[0] * b[1] + a[1] * b[0]
    out[0] = re


cdef inline void _cdiv(const double* a, const double* b, double* out) noexcept nogil:
    cdef double d = b[0] * b[0] + b[1] * b[1]
    cdef double re = (a[0] * b[0] + a[1] * b[1]) / d
    out[1] = (a[1] * b[0] - a[0] * b[1]) / d
    out[0] = re


cdef void _add_image(double f_s, double bin_s, const double* ref_s, const double* amp_s,
                     double f_t, double bin_t, const double* ref_t, int H, double* leak) noexcept nogil:
    """Add to ``leak`` what tone s's image (at -f_s) puts in tone t's window sum.

    ``amp_s`` is s's window sum / WIN, ``ref_*`` the bins' phase references of the
    newest sub-block; frequencies in radians per sample (actual ``f``, ``bin``)."""
    cdef double g[2]
    cdef double d[2]
    cdef double term[2]
    _dirichlet(-(f_s + bin_t), H, g)
    _dirichlet(f_s - bin_s, H, d)
    d[1] = -d[1]
    _cdiv(g, d, term)
    _dirichlet((f_s + f_t) * H, WIN, d)
    _cmul(term, d, term)
    _cmul(term, ref_s, term)
    _cmul(term, ref_t, term)
    d[0] = amp_s[0]
    d[1] = -amp_s[1]
    _cmul(term, d, term)
    leak[0] += term[0]
    leak[1] += term[1]


cdef inline void _expj(double angle, double* out) noexcept nogil:
    out[0] = cos(angle)
    out[1] = sin(angle)


cdef inline void _dirichlet(double delta, int n, double* out) noexcept nogil:
    """sum_{i<n} e^{j delta i} = e^{j delta (n-1)/2} sin(n delta/2) / sin(delta/2)."""
    cdef double half = sin(delta / 2.0)
    cdef double gain = n if fabs(half) < 1e-9 else sin(n * delta / 2.0) / half
    out[0] = gain * cos(delta * (n - 1) / 2.0)
    out[1] = gain * sin(delta * (n - 1) / 2.0)


cdef class _Engine:
    """Shared machinery: configuration, per-channel state and the sub-block pipeline."""

    cdef Config cfg
    cdef Chan* chans
    cdef float* partial          # channels x H samples not yet a whole sub-block
    cdef int channels
    cdef int fill                # samples in each channel's partial sub-block
    cdef int64_t block           # index of the next sub-block (same for every channel)
    cdef double rot[NTONES][2]   # phase reference of sub-block `block`
    cdef float law_table[256]
    cdef int law                 # 0 linear int16, 1 G.711 via law_table
    cdef readonly double sample_rate
    cdef Found* found            # events of the current feed or flush...
    cdef Py_ssize_t n_found      # ...how many...
    cdef Py_ssize_t found_room   # ...and room for how many
    cdef bint found_lost         # an event could not be stored (out of memory)
    cdef int share_mode          # SHARE_CHECKED unless a test asks otherwise
    cdef bint report_start       # also report each digit's start once it passes

    def __cinit__(self, int channels, double sample_rate, law, dict thresholds, bint report_start=False):
        self.chans = NULL
        self.partial = NULL
        self.found = NULL
        if channels < 1:
            raise ValueError("channels must be >= 1")
        if not 4000 <= sample_rate <= 64000:
            raise ValueError(f"sample_rate {sample_rate} outside 4000..64000 Hz")
        unknown = set(thresholds) - set(THRESHOLDS)
        if unknown:
            raise TypeError(f"unknown threshold(s): {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(THRESHOLDS)}")
        values = dict(THRESHOLDS)
        values.update({k: float(v) for k, v in thresholds.items()})
        self.channels = channels
        self.sample_rate = sample_rate
        self.report_start = report_start
        self._configure(values)
        self._set_law(law)
        self.chans = <Chan*>PyMem_Malloc(channels * sizeof(Chan))
        self.partial = <float*>PyMem_Malloc(channels * self.cfg.H * sizeof(float))
        if self.chans == NULL or self.partial == NULL:
            raise MemoryError()
        self.reset()

    def __dealloc__(self):
        PyMem_Free(self.chans)
        PyMem_Free(self.partial)
        free(self.found)

    cdef _configure(self, dict v):
        cdef Config* c = &self.cfg
        cdef int i, t
        cdef double w, amp, n_win
        cdef double bins[NTONES]
        c.H = <int>lround(0.004 * self.sample_rate)
        if c.H > 256:
            raise ValueError("sample_rate too high")
        for t in range(NTONES):
            bins[t] = 2.0 * M_PI * _TONES[t] / self.sample_rate
        dtmf_fit_init(&c.fit, bins, c.H, WIN)
        memset(c.dc, 0, sizeof(c.dc))
        for t in range(NTONES):
            w = 2.0 * M_PI * _TONES[t] / self.sample_rate
            for i in range(c.H):
                c.basis[i][t] = <float>cos(w * i)
                c.basis[i][NTONES + t] = <float>-sin(w * i)
                c.dc[t] += c.basis[i][t]
                c.dc[NTONES + t] += c.basis[i][NTONES + t]
            c.step[t][0] = cos(w * c.H)
            c.step[t][1] = -sin(w * c.H)
            # Largest phase advance per sub-block the tolerance allows, as a tangent.
            w = 2.0 * M_PI * _TONES[t] * v["freq_tolerance_pct"] / 100.0 * c.H / self.sample_rate
            if not 0.0 < w < M_PI / 2:
                raise ValueError("freq_tolerance_pct out of range")
            c.tan_tol[t] = <float>(sin(w) / cos(w))
        n_win = WIN * c.H
        amp = 32767.0 * pow(10.0, (v["min_level_dbm0"] - _FULL_SCALE_DBM0) / 20.0)
        c.p_min = <float>((amp * n_win / 2.0) ** 2)
        c.p_quick = c.p_min * 0.1            # up to 10 dB lost to a frequency error
        # A 16 ms window sees the other group's tone leak in at up to -25 dB, which
        # moves single-window shares by about 10 %; the digit-level share averages
        # that out and is held to the full requirement.
        c.fraction = <float>(v["energy_fraction"] - 0.2)
        c.half_window = <float>(n_win / 2.0)
        c.digit_fraction = <float>v["energy_fraction"]
        c.clip_allowance = 0.15
        c.quick_fraction = c.fraction * 0.3 * n_win / 2.0   # uncorrected |W|^2 may lose 5 dB
        c.twist_std = <float>pow(10.0, -v["twist_standard_db"] / 10.0)
        c.twist_rev = <float>pow(10.0, v["twist_reverse_db"] / 10.0)
        c.rel_peak = <float>pow(10.0, v["relative_peak_db"] / 10.0)
        c.hz_per_radian = <float>(self.sample_rate / (2.0 * M_PI * c.H))
        c.min_samples = v["min_duration_ms"] * self.sample_rate / 1000.0
        c.split_run = max(1, <int>lround(v["split_gap_ms"] * self.sample_rate / 1000.0 / c.H))

    cdef _set_law(self, law):
        cdef int i
        if law is None:
            self.law = 0
            return
        table = _g711.decode_table(law)
        for i in range(256):
            self.law_table[i] = table[i]
        self.law = 1

    cdef void reset_channel(self, int channel) noexcept:
        """Forget one channel's past, as if it had been silent (the stream goes on)."""
        memset(&self.chans[channel], 0, sizeof(Chan))
        memset(self.partial + channel * self.cfg.H, 0, self.cfg.H * sizeof(float))

    cpdef reset(self):
        """Forget everything: the next sample is sample 0 of a new stream."""
        cdef int t
        memset(self.chans, 0, self.channels * sizeof(Chan))
        memset(self.partial, 0, self.channels * self.cfg.H * sizeof(float))
        self.fill = 0
        self.block = 0
        for t in range(NTONES):
            self.rot[t][0] = 1.0
            self.rot[t][1] = 0.0

    # ---- the per-sample part -------------------------------------------------------

    cdef void _analyse(self, Chan* ch, const float* x, int64_t m, const float* rot) noexcept nogil:
        """Spectrum and energy of one sub-block of samples ``x``, then judge window ``m``."""
        cdef const Config* c = &self.cfg
        cdef float sums[NBINS + 3]
        cdef int t
        cdef float mean, re, im
        dtmf_subblock(x, c.H, &c.basis[0][0], sums)
        mean = sums[NBINS] / c.H
        cdef float* slot = ch.ring[m & (RING - 1)]
        for t in range(NTONES):
            re = sums[t] - mean * c.dc[t]
            im = sums[NTONES + t] - mean * c.dc[NTONES + t]
            slot[t] = re * rot[2 * t] - im * rot[2 * t + 1]
            slot[NTONES + t] = re * rot[2 * t + 1] + im * rot[2 * t]
        ch.energy[m & (RING - 1)] = sums[NBINS + 1] - sums[NBINS] * mean
        ch.clipped[m & (RING - 1)] = sums[NBINS + 2] > 0.0
        self._judge(ch, m, rot)

    # ---- the per-window part -------------------------------------------------------

    cdef void _unleak(self, float* sums, const float* angles, int r, int col, const float* rot) noexcept nogil:
        """Take the two tones' leakage out of each other's compensated window sums.

        A 4 ms sub-block's single-bin DFT lets the other group's tone through at
        up to -13 dB, and the 4-sub-block window still at up to -25 dB; the
        negative-frequency images of both tones add about 1 %.  Together they move
        a window's measured tone energy by up to 15 % as the tones' phases turn.
        Each leak is known in closed form from the two measured frequencies, so it
        is subtracted (to first order, which leaves under 1 %).  ``sums`` holds the
        row and column sums (re, im), ``angles`` their phase advance per
        sub-block, ``rot`` the row's and the column's phase reference (re, im) at
        the newest sub-block.
        """
        cdef double[2] bins, actual, fixed_r, fixed_c, given_r, given_c
        cdef int tones[2]
        tones[0] = r
        tones[1] = col
        cdef int t
        for t in range(2):
            bins[t] = 2.0 * M_PI * _TONES[tones[t]] / self.sample_rate
            actual[t] = bins[t] + angles[t] / self.cfg.H
        given_r[0] = sums[0] / WIN
        given_r[1] = sums[1] / WIN
        given_c[0] = sums[2] / WIN
        given_c[1] = sums[3] / WIN
        self._leak_into(given_r, given_c, bins[0], bins[1], actual[0], actual[1],
                        rot, rot + 2, fixed_r)
        self._leak_into(given_c, given_r, bins[1], bins[0], actual[1], actual[0],
                        rot + 2, rot, fixed_c)
        sums[0] -= <float>fixed_r[0]
        sums[1] -= <float>fixed_r[1]
        sums[2] -= <float>fixed_c[0]
        sums[3] -= <float>fixed_c[1]

    cdef double _fitted_energy(self, const float* sums, const float* angles, int r, int col,
                               const float* rot) noexcept nogil:
        """Energy, over the window, of the two tones as measured (amplitude, phase,
        frequency).  Two close tones beat, so a 16 ms window of them holds up to 7 %
        more or less than the sum of their energies; comparing the window's energy
        with this, rather than with that sum, makes the share exact to 1 %.  ``rot``
        as for :meth:`_unleak`."""
        cdef int H = self.cfg.H
        cdef int N = WIN * H
        cdef double q[2][2]
        cdef double f[2]
        cdef double g[2]
        cdef double z[2]
        cdef double d[2]
        cdef double ref[2][2]          # conj(rot): e^{+j bin m H}
        cdef int tones[2]
        cdef int t
        cdef double total = 0.0
        tones[0] = r
        tones[1] = col
        for t in range(2):
            f[t] = 2.0 * M_PI * _TONES[tones[t]] / self.sample_rate + angles[t] / H
            _dirichlet(angles[t] / H, H, g)
            z[0] = sums[2 * t] / WIN
            z[1] = sums[2 * t + 1] / WIN
            _cdiv(z, g, q[t])                     # half the complex amplitude, up to phase
            ref[t][0] = rot[2 * t]
            ref[t][1] = -rot[2 * t + 1]
            total += 2.0 * N * (q[t][0] * q[t][0] + q[t][1] * q[t][1])
            # The tone against its own image.
            _cmul(q[t], q[t], z)
            _cmul(z, ref[t], z)
            _cmul(z, ref[t], z)
            _expj(-2.0 * f[t] * (WIN - 1) * H, d)
            _cmul(z, d, z)
            _dirichlet(2.0 * f[t], N, d)
            _cmul(z, d, z)
            total += 2.0 * z[0]
        # The two tones against each other: difference and sum frequencies.
        d[0] = q[1][0]
        d[1] = -q[1][1]
        _cmul(q[0], d, z)
        _cmul(z, ref[0], z)
        d[0] = ref[1][0]
        d[1] = -ref[1][1]
        _cmul(z, d, z)
        _expj(-(f[0] - f[1]) * (WIN - 1) * H, d)
        _cmul(z, d, z)
        _dirichlet(f[0] - f[1], N, d)
        _cmul(z, d, z)
        total += 4.0 * z[0]
        _cmul(q[0], q[1], z)
        _cmul(z, ref[0], z)
        _cmul(z, ref[1], z)
        _expj(-(f[0] + f[1]) * (WIN - 1) * H, d)
        _cmul(z, d, z)
        _dirichlet(f[0] + f[1], N, d)
        _cmul(z, d, z)
        total += 4.0 * z[0]
        return total

    cdef void _leak_into(self, const double* own, const double* other, double bin_t, double bin_o,
                         double f_t, double f_o, const float* rot_t, const float* rot_o,
                         double* leak) noexcept nogil:
        """Leak into tone t's window sum (``own`` = that sum / WIN) from tone o (``other``),
        o's image and t's own image.  Frequencies in radians per sample: bins and
        actual; ``rot_*`` the phase references (e^{-j bin m H}) of the newest sub-block."""
        cdef int H = self.cfg.H
        cdef double g[2]
        cdef double d[2]
        cdef double x[2]
        cdef double term[2]
        cdef double rt[2]
        cdef double ro[2]
        rt[0] = rot_t[0]
        rt[1] = rot_t[1]
        ro[0] = rot_o[0]
        ro[1] = rot_o[1]
        # Tone o itself: its sub-block response at t's bin over its own, the 4-sub-block
        # sum of its phase turn against t, and the two bins' phase references.
        _dirichlet(f_o - bin_t, H, g)
        _dirichlet(f_o - bin_o, H, d)
        _cdiv(g, d, term)
        _dirichlet(-(f_o - f_t) * H, WIN, d)
        _cmul(term, d, term)
        x[0] = rt[0] * ro[0] + rt[1] * ro[1]           # rot_t * conj(rot_o)
        x[1] = rt[1] * ro[0] - rt[0] * ro[1]
        _cmul(term, x, term)
        _cmul(term, other, leak)
        # The images (negative frequencies) of o and of t itself.
        _add_image(f_o, bin_o, ro, other, f_t, bin_t, rt, H, leak)
        _add_image(f_t, bin_t, rt, own, f_t, bin_t, rt, H, leak)

    cdef int _window_digit(self, Chan* ch, int64_t m, Window* w, const float* rot) noexcept nogil:
        """Judge the window ending at sub-block ``m``.

        Returns the digit (row*4+col) whose tones pass every test; ``OFF_FREQ - digit``
        when a digit passes every test but the frequency one (its tones are steady
        and strong but off nominal: evidence against that digit); or -1.  Unless -1,
        ``w`` receives the details.
        """
        cdef const Config* c = &self.cfg
        cdef float wr[NTONES]
        cdef float wi[NTONES]
        cdef float p[NTONES]
        cdef int j, t, r, col, tone
        cdef int which
        cdef const float* s
        cdef float energy, pr, pc, qr, qi, ur, ui, vr, vi, tr, mag, cr, ci, angle
        cdef float comp[2]
        cdef float sums[4]
        cdef float angles[2]
        cdef bint in_tolerance = True
        cdef float spread
        w.coherent = True
        for t in range(NTONES):
            wr[t] = 0.0
            wi[t] = 0.0
        for j in range(WIN):
            s = ch.ring[(m - j) & (RING - 1)]
            for t in range(NTONES):
                wr[t] += s[t]
                wi[t] += s[NTONES + t]
        for t in range(NTONES):
            p[t] = wr[t] * wr[t] + wi[t] * wi[t]
        r = 0
        for t in range(1, 4):
            if p[t] > p[r]:
                r = t
        col = 4
        for t in range(5, 8):
            if p[t] > p[col]:
                col = t
        pr = p[r]
        pc = p[col]
        if pr < c.p_quick or pc < c.p_quick:
            return -1
        energy = 0.0
        w.clipped = False
        for j in range(WIN):
            energy += ch.energy[(m - j) & (RING - 1)]
            w.clipped |= ch.clipped[(m - j) & (RING - 1)]
        if pr + pc < c.quick_fraction * energy:
            return -1
        for t in range(NTONES):
            if t != r and t != col:
                if p[t] * c.rel_peak > (pr if t < 4 else pc):
                    return -1
        # Frequency of each tone from the phase advance between this window and the
        # previous one; then the window re-summed with that advance taken out.
        for which in range(2):
            tone = r if which == 0 else col
            qr = 0.0
            qi = 0.0
            for j in range(1, WIN + 1):
                s = ch.ring[(m - j) & (RING - 1)]
                qr += s[tone]
                qi += s[NTONES + tone]
            # z = W_now * conj(W_prev): its angle is the advance per sub-block.
            ur = wr[tone] * qr + wi[tone] * qi
            ui = wi[tone] * qr - wr[tone] * qi
            if ur <= 0.0 or (ui if ui > 0 else -ui) > c.tan_tol[tone] * ur:
                in_tolerance = False
            mag = sqrt(ur * ur + ui * ui)
            if mag == 0.0:
                return -1
            ur /= mag
            ui /= mag
            w.advance[2 * which] = ur
            w.advance[2 * which + 1] = ui
            # Sum S[m - j] * u**j.
            cr = 0.0
            ci = 0.0
            vr = 1.0
            vi = 0.0
            spread = 0.0
            for j in range(WIN):
                s = ch.ring[(m - j) & (RING - 1)]
                spread += sqrt(_sq(s[tone], s[NTONES + tone]))
                cr += s[tone] * vr - s[NTONES + tone] * vi
                ci += s[tone] * vi + s[NTONES + tone] * vr
                tr = vr * ur - vi * ui
                vi = vr * ui + vi * ur
                vr = tr
            sums[2 * which] = cr
            sums[2 * which + 1] = ci
            if (cr * cr + ci * ci) < COHERENCE * spread * spread:
                w.coherent = False
        for which in range(2):
            angles[which] = atan2f(w.advance[2 * which + 1], w.advance[2 * which])
        for which in range(2):
            # Within each sub-block the frequency error still costs a little level:
            # the sub-block sum's gain is sin(a/2) / (H sin(a/2H)) ~ 1 - a^2/24.
            comp[which] = ((sums[2 * which] * sums[2 * which] + sums[2 * which + 1] * sums[2 * which + 1])
                           * (1.0 + angles[which] * angles[which] / 12.0))
        if comp[0] < c.p_min or comp[1] < c.p_min:
            return -1
        if comp[1] < c.twist_std * comp[0] or comp[1] > c.twist_rev * comp[0]:
            return -1
        # A first, lenient share test on the raw sums; the exact one is made on the
        # windows that decide the digit (see _keep).
        if comp[0] + comp[1] < (c.fraction - (c.clip_allowance if w.clipped else 0.0)) * c.half_window * energy:
            return -1
        # A voice whose two strongest partials are harmonics 1 and 2 (or 2 and 4) of
        # one pitch is not DTMF: no DTMF pair within 1.5 % comes closer than 1.2 %
        # to a 2:1 ratio, while partials of one pitch sit at exactly 2:1.
        freq_r = _TONES[r] + angles[0] * c.hz_per_radian      # angles: atan2f of the advances
        freq_c = _TONES[col] + angles[1] * c.hz_per_radian
        if fabsf(freq_c - 2.0 * freq_r) < HARMONIC_TOL * freq_c:
            return -1
        w.amp2[0] = comp[0] / (WIN * WIN)
        w.amp2[1] = comp[1] / (WIN * WIN)
        for which in range(4):
            w.sums[which] = sums[which]
        w.angles[0] = angles[0]
        w.angles[1] = angles[1]
        w.row = r
        w.col = col
        w.energy = energy
        if not in_tolerance:
            return OFF_FREQ - (r * 4 + (col - 4))
        return r * 4 + (col - 4)

    cdef inline float _cover(self, Chan* ch, int64_t m, int digit, const float* amp2) noexcept nogil:
        """Fraction of sub-block ``m`` the digit covers, from its tones' amplitudes (0..~1).

        The two tones' powers are pooled, so the stronger tone dominates: in a
        4 ms sub-block the strong tone leaks into the weak one's bin (up to -13 dB),
        which with 8 dB of twist would swamp a per-tone measure.
        """
        cdef float ratio = self._power_ratio(ch, m, digit, amp2)
        if ratio > 16.0:               # far louder than the tone: something else
            return 0.0
        return sqrt(ratio) if ratio < 1.0 else 1.0

    cdef inline float _power_ratio(self, Chan* ch, int64_t m, int digit, const float* amp2) noexcept nogil:
        """The digit's tones' power in sub-block ``m`` over their steady power ``amp2``."""
        cdef const float* s = ch.ring[m & (RING - 1)]
        cdef int r = digit >> 2
        cdef int col = 4 + (digit & 3)
        return (_sq(s[r], s[NTONES + r]) + _sq(s[col], s[NTONES + col])) / (amp2[0] + amp2[1])

    cdef void _begin(self, Chan* ch, int64_t m, int digit, const float* amp2) noexcept nogil:
        """Start tracking ``digit``, first confirmed by the window ending at ``m``."""
        cdef const Config* c = &self.cfg
        cdef int64_t first = m
        cdef int64_t oldest = m - SCAN_BACK
        if oldest < 0:
            oldest = 0
        while first > oldest and self._cover(ch, first - 1, digit, amp2) >= 0.5:
            first -= 1
        ch.state = ACTIVE
        ch.digit = digit
        ch.amp2[0] = amp2[0]
        ch.amp2[1] = amp2[1]
        ch.valid = 0
        ch.off_freq = 0
        ch.n_kept = 0
        ch.clipped_digit = False
        ch.started = False
        ch.share_key = 0
        ch.present_run = <int>(m - first + 1)
        ch.windows = max(0, ch.present_run - WIN + 1)
        ch.other_count = 0
        ch.off_run = 0
        ch.last_present = m
        # The first present sub-block plus the part of the one before that it covers.
        ch.start = (first + 1) * c.H - c.H * self._cover(ch, first, digit, amp2)
        if first > 0 and first - 1 > m - RING:
            ch.start -= c.H * self._cover(ch, first - 1, digit, amp2)

    cdef void _end(self, Chan* ch, int64_t upto) noexcept nogil:
        """The digit has ended; record it if it passes.  With ``report_start`` every
        start gets its end, and every end a start before it. ``upto``: newest sub-block."""
        cdef double end
        cdef bint accepted = self._accepted(ch, upto, &end)
        ch.state = IDLE
        if accepted and self.report_start and not ch.started:
            self._record_start(ch)
        if accepted or ch.started:
            self._record(<int>(ch - self.chans), ch.digit, lround(ch.start), lround(end))

    cdef bint _accepted(self, Chan* ch, int64_t upto, double* end) noexcept nogil:
        """Does the digit pass, were it to end with sub-block ``upto``?  ``end``
        receives where it would end, in samples."""
        cdef const Config* c = &self.cfg
        cdef int64_t last = ch.last_present
        end[0] = last * c.H + c.H * self._cover(ch, last, ch.digit, ch.amp2)
        if last + 1 <= upto:
            end[0] += c.H * self._cover(ch, last + 1, ch.digit, ch.amp2)
        return (ch.valid >= MIN_VALID and 3 * ch.valid >= ch.windows and ch.off_freq == 0
                and ch.amp_high[0] <= AMP_STEADY * ch.amp_low[0]
                and ch.amp_high[1] <= AMP_STEADY * ch.amp_low[1]
                and end[0] - ch.start >= c.min_samples
                and self._share_verdict(ch))

    cdef bint _share_verdict(self, Chan* ch) noexcept nogil:
        """:meth:`_share_passes` at the digit's threshold (lower once it clipped),
        remembered until another window is kept or the digit clips."""
        cdef const Config* c = &self.cfg
        cdef int key = 1 + 2 * ch.n_kept + ch.clipped_digit
        if ch.share_key != key:
            ch.share_key = key
            ch.share_ok = self._share_passes(
                ch, c.digit_fraction - (c.clip_allowance if ch.clipped_digit else 0.0))
        return ch.share_ok

    cdef void _record(self, int channel, int digit, int64_t start, int64_t end) noexcept nogil:
        """Keep an event for :meth:`_events`; the buffer grows without the GIL."""
        cdef Py_ssize_t room
        cdef Found* grown
        if self.n_found == self.found_room:
            room = max(64, 2 * self.found_room)
            grown = <Found*>realloc(self.found, room * sizeof(Found))
            if grown == NULL:
                self.found_lost = True
                return
            self.found = grown
            self.found_room = room
        self.found[self.n_found] = Found(channel, digit, start, end)
        self.n_found += 1

    cdef list _events(self):
        """The events kept since the feed or flush began, as [(channel, DtmfEvent)]."""
        cdef Py_ssize_t k
        cdef Found* f
        cdef list events = []
        if self.found_lost:
            self.found_lost = False
            raise MemoryError("no room for DTMF events")
        for k in range(self.n_found):
            f = &self.found[k]
            events.append((f.channel, _new_event(
                _DtmfEvent, (_DIGIT_STRINGS[f.digit], f.start, None if f.end == NO_END else f.end))))
        return events

    cdef void _judge(self, Chan* ch, int64_t m, const float* rot) noexcept nogil:
        cdef Window w
        cdef int verdict = self._window_digit(ch, m, &w, rot)
        cdef int digit = verdict if verdict >= -1 else OFF_FREQ - verdict
        cdef int k
        cdef bint steady = verdict != -1 and self._steady(ch, m, digit, &w)
        cdef bint confirmed = verdict >= 0
        if verdict < -1 and steady and ch.last_verdict == verdict:
            # Off frequency counts only in a steady window and when the window
            # before agrees on how far off.
            confirmed = True
            for k in range(4):
                if fabsf(w.advance[k] - ch.last_advance[k]) > 0.15:
                    confirmed = False
        ch.last_verdict = verdict
        for k in range(4):
            ch.last_advance[k] = w.advance[k]
        if ch.state == ACTIVE:
            if digit == ch.digit:
                if confirmed:
                    self._count(ch, verdict, steady, &w, rot)
            elif digit >= 0:
                if digit == ch.other_digit:
                    ch.other_count += 1
                else:
                    ch.other_digit = digit
                    ch.other_count = 1
                if ch.other_count >= 2:       # another digit took over without a gap
                    self._end(ch, m)
            else:
                ch.other_count = 0
            if ch.state == ACTIVE:
                if self._cover(ch, m, ch.digit, ch.amp2) >= 0.5:
                    ch.last_present = m
                    ch.off_run = 0
                    ch.present_run += 1
                    if ch.present_run >= WIN:
                        ch.windows += 1
                else:
                    ch.present_run = 0
                    ch.off_run += 1
                    if ch.off_run >= self.cfg.split_run:
                        self._end(ch, m)
        if ch.state == IDLE and digit >= 0 and confirmed:
            # Off-frequency tones are tracked too, so that they stay vetoed to the end.
            # The first window is the onset: it holds some of the silence before.
            self._begin(ch, m, digit, w.amp2)
            self._count(ch, verdict, False, &w, rot)
        if self.report_start and ch.state == ACTIVE and not ch.started:
            self._report_start(ch, m)

    cdef void _report_start(self, Chan* ch, int64_t m) noexcept nogil:
        """Report the digit's start (an event with no end) once it would pass were it
        to end now (long enough, steady, in tolerance, with its energy share) and
        its share is final (measured on all the windows it keeps)."""
        cdef double end
        if ch.n_kept >= KEEP and self._accepted(ch, m, &end):
            self._record_start(ch)

    cdef inline void _record_start(self, Chan* ch) noexcept nogil:
        """The digit's start event (no end), once."""
        ch.started = True
        self._record(<int>(ch - self.chans), ch.digit, lround(ch.start), NO_END)

    cdef bint _steady(self, Chan* ch, int64_t m, int digit, const Window* w) noexcept nogil:
        """Does the window ending at ``m`` lie wholly inside one steady tone: its
        phases coherent and each of its sub-blocks at least 75 % covered?  A
        window over the tone's edge holds silence and one straddling a phase jump
        sums the tone against itself: neither is evidence for or against it."""
        cdef int j
        cdef float ratio
        if not w.coherent:
            return False
        for j in range(WIN):
            # _cover(...) >= 0.75 without its square root: 0.75 ** 2 is exact in
            # float, so the comparisons agree for every ratio (NaN covers, as there).
            ratio = self._power_ratio(ch, m - j, digit, w.amp2)
            if ratio > 16.0 or ratio < 0.5625:
                return False
        return True

    cdef inline void _count(self, Chan* ch, int verdict, bint steady, const Window* w,
                            const float* rot) noexcept nogil:
        """A window of the current digit's tones: a vote for it, or a veto if off
        frequency.  The digit's energy share is pooled over its steady windows."""
        cdef int k
        ch.other_count = 0
        ch.amp2[0] = w.amp2[0]
        ch.amp2[1] = w.amp2[1]
        if verdict < 0:
            ch.off_freq += 1
            return
        ch.valid += 1
        if steady:
            if ch.n_kept == 0:
                ch.amp_low[0] = ch.amp_high[0] = w.amp2[0]
                ch.amp_low[1] = ch.amp_high[1] = w.amp2[1]
            for k in range(2):
                ch.amp_low[k] = min(ch.amp_low[k], w.amp2[k])
                ch.amp_high[k] = max(ch.amp_high[k], w.amp2[k])
            if ch.n_kept < KEEP:
                self._keep(ch, w, rot)
            ch.clipped_digit |= w.clipped

    cdef void _keep(self, Chan* ch, const Window* w, const float* rot) noexcept nogil:
        """Remember a steady window for the digit's energy share."""
        cdef Kept* kept = &ch.kept[ch.n_kept]
        cdef int k
        for k in range(4):
            kept.sums[k] = w.sums[k]
        kept.angles[0] = w.angles[0]
        kept.angles[1] = w.angles[1]
        kept.rot[0] = rot[2 * w.row]
        kept.rot[1] = rot[2 * w.row + 1]
        kept.rot[2] = rot[2 * w.col]
        kept.rot[3] = rot[2 * w.col + 1]
        kept.energy = w.energy
        ch.n_kept += 1

    cdef bint _share_passes(self, Chan* ch, float threshold) noexcept nogil:
        """Do the digit's two tones hold ``threshold`` of the energy, pooled over the
        steady windows at full level (within 0.5 dB of the strongest)?  A window
        holding part of a dropout or a phase jump measures the tone lower, and is
        left out.

        Each window is measured exactly (leakage taken out of both tones' sums,
        and the tones' fitted energy), first in the fast form; the reference form
        decides only when the fast figures come within SHARE_MARGIN of the full
        level or of ``threshold``, so the verdict is always the reference's."""
        cdef double level[KEEP]
        cdef double tones[KEEP]
        cdef double top = 0.0, pooled = 0.0, energy = 0.0, share
        cdef float u[2]
        cdef int k, r = ch.digit >> 2, col = 4 + (ch.digit & 3)
        if self.share_mode == SHARE_REFERENCE:
            return self._share_reference(ch) >= threshold
        for k in range(ch.n_kept):
            # The frequency error per sample exactly as the reference rounds it.
            u[0] = ch.kept[k].angles[0] / self.cfg.H
            u[1] = ch.kept[k].angles[1] / self.cfg.H
            dtmf_fit(&self.cfg.fit, ch.kept[k].sums, u, r, col, ch.kept[k].rot, &level[k], &tones[k])
            top = max(top, level[k])
        for k in range(ch.n_kept):
            if not fabs(level[k] - FULL_LEVEL * top) > SHARE_MARGIN * top and self.share_mode != SHARE_FAST:
                return self._share_reference(ch) >= threshold
            if level[k] >= FULL_LEVEL * top:
                pooled += tones[k]
                energy += ch.kept[k].energy
        share = pooled / energy if energy > 0.0 else 0.0
        if fabs(share - threshold) > SHARE_MARGIN or self.share_mode == SHARE_FAST:
            return share >= threshold
        return self._share_reference(ch) >= threshold

    cdef float _share_reference(self, Chan* ch) noexcept nogil:
        """The share as :meth:`_share_passes` pools it, in the reference form."""
        cdef float sums[4]
        cdef float tones[KEEP]
        cdef float level[KEEP]
        cdef int k, j, r = ch.digit >> 2, col = 4 + (ch.digit & 3)
        cdef float top = 0.0, pooled = 0.0, energy = 0.0
        for k in range(ch.n_kept):
            for j in range(4):
                sums[j] = ch.kept[k].sums[j]
            self._unleak(sums, ch.kept[k].angles, r, col, ch.kept[k].rot)
            tones[k] = <float>self._fitted_energy(sums, ch.kept[k].angles, r, col, ch.kept[k].rot)
            level[k] = sums[0] * sums[0] + sums[1] * sums[1] + sums[2] * sums[2] + sums[3] * sums[3]
        for k in range(ch.n_kept):
            top = max(top, level[k])
        for k in range(ch.n_kept):
            if level[k] >= FULL_LEVEL * top:
                pooled += tones[k]
                energy += ch.kept[k].energy
        return pooled / energy if energy > 0.0 else 0.0

    # ---- feeding ---------------------------------------------------------------------

    cdef void _advance_rotation(self, double* rot, int n_blocks) noexcept nogil:
        """Fill ``rot`` with the phase reference of the next ``n_blocks`` sub-blocks."""
        cdef int b, t
        cdef double re, im, norm
        for b in range(n_blocks):
            for t in range(NTONES):
                rot[(b * NTONES + t) * 2] = self.rot[t][0]
                rot[(b * NTONES + t) * 2 + 1] = self.rot[t][1]
                re = self.rot[t][0] * self.cfg.step[t][0] - self.rot[t][1] * self.cfg.step[t][1]
                im = self.rot[t][0] * self.cfg.step[t][1] + self.rot[t][1] * self.cfg.step[t][0]
                norm = (3.0 - (re * re + im * im)) * 0.5   # keep |rot| = 1
                self.rot[t][0] = re * norm
                self.rot[t][1] = im * norm

    cdef inline void _load(self, float* dst, const uint8_t* src, int64_t first, int n) noexcept nogil:
        """Convert ``n`` samples starting at sample ``first`` of ``src`` to float."""
        cdef int i
        cdef const int16_t* pcm
        cdef const uint8_t* codes
        if self.law:
            codes = src + first
            for i in range(n):
                dst[i] = self.law_table[codes[i]]
        else:
            pcm = (<const int16_t*>src) + first
            for i in range(n):
                dst[i] = pcm[i]

    cdef list _feed(self, const uint8_t* data, Py_ssize_t n, const uint8_t* active=NULL):
        """Feed ``n`` samples per channel, channel-major; returns [(channel, event)].

        With ``active`` (one flag per channel), channels flagged 0 are skipped: their
        state stands still until :meth:`reset_channel` starts them afresh."""
        cdef int H = self.cfg.H
        cdef int need = H - self.fill
        cdef int64_t n_blocks = 0 if n < need else 1 + (n - need) // H
        cdef int rest = <int>(n - need - (n_blocks - 1) * H) if n_blocks else 0
        cdef float* rotf
        cdef double* rotd
        cdef float x[256]
        cdef int ch_index, t
        cdef int64_t b, pos
        cdef Chan* ch
        cdef float* part
        cdef int64_t base
        self.n_found = 0
        if n == 0:
            return []
        rotd = <double*>PyMem_Malloc((n_blocks + 1) * NTONES * 2 * sizeof(double))
        rotf = <float*>PyMem_Malloc((n_blocks + 1) * NTONES * 2 * sizeof(float))
        if rotd == NULL or rotf == NULL:
            PyMem_Free(rotd)
            PyMem_Free(rotf)
            raise MemoryError()
        try:
            self._advance_rotation(rotd, <int>n_blocks)
            for b in range(n_blocks * NTONES * 2):
                rotf[b] = <float>rotd[b]
            # Without the GIL: other threads (another span's detector) run meanwhile.
            with nogil:
                for ch_index in range(self.channels):
                    if active != NULL and not active[ch_index]:
                        continue
                    ch = &self.chans[ch_index]
                    part = self.partial + ch_index * H
                    base = <int64_t>ch_index * n
                    if n_blocks == 0:
                        self._load(part + self.fill, data, base, <int>n)
                        continue
                    memcpy(x, part, self.fill * sizeof(float))
                    self._load(x + self.fill, data, base, need)
                    self._analyse(ch, x, self.block, rotf)
                    pos = need
                    for b in range(1, n_blocks):
                        self._load(x, data, base + pos, H)
                        self._analyse(ch, x, self.block + b, rotf + b * NTONES * 2)
                        pos += H
                    self._load(part, data, base + pos, rest)
            if n_blocks:
                self.fill = rest
                self.block += n_blocks
            else:
                self.fill += <int>n
        finally:
            PyMem_Free(rotd)
            PyMem_Free(rotf)
        return self._events()

    cdef list _flush(self):
        """Pad the partial sub-block with silence, then end every digit still sounding."""
        cdef int H = self.cfg.H
        cdef int ch_index, k
        cdef Chan* ch
        cdef double rotd[NTONES * 2]
        cdef float rotf[NTONES * 2]
        cdef float x[256]
        self.n_found = 0
        if self.fill:
            self._advance_rotation(rotd, 1)
            for k in range(NTONES * 2):
                rotf[k] = <float>rotd[k]
            for ch_index in range(self.channels):
                memcpy(x, self.partial + ch_index * H, self.fill * sizeof(float))
                memset(x + self.fill, 0, (H - self.fill) * sizeof(float))
                self._analyse(&self.chans[ch_index], x, self.block, rotf)
            self.block += 1
        for ch_index in range(self.channels):
            ch = &self.chans[ch_index]
            if ch.state == ACTIVE:
                self._end(ch, self.block - 1)
        self.reset()
        return self._events()

    cdef const uint8_t[::1] _bytes(self, buf, Py_ssize_t* n_samples):
        view = memoryview(buf)
        if not view.c_contiguous:
            raise ValueError("buffer must be C-contiguous")
        view = view.cast("B")
        cdef Py_ssize_t size = view.nbytes
        if self.law:
            n_samples[0] = size
        else:
            if size % 2:
                raise ValueError(f"int16 audio must be whole samples, got {size} bytes")
            n_samples[0] = size // 2
        return view


cdef class _Receiver:
    """What both receivers share: the engine, its rate, reset()."""

    cdef _Engine _engine

    @property
    def sample_rate(self):
        return self._engine.sample_rate

    def reset(self):
        """Drop all state; the next sample is sample 0 of a new stream."""
        self._engine.reset()

    def _set_share_check(self, str mode):
        """For tests: decide the energy share "checked" (the default), by the
        "reference" form alone, or by the "fast" form alone."""
        self._engine.share_mode = _SHARE_MODES[mode]


cdef class DtmfDetector(_Receiver):
    """DTMF receiver for one stream.

    ``DtmfDetector(sample_rate=8000, law=None, report_start=False, **thresholds)``:
    ``law`` "alaw" or "ulaw" makes ``feed`` take G.711 bytes instead of int16
    samples; thresholds are listed in :data:`THRESHOLDS`.

    ``report_start=True`` also reports each digit's start (key down, Asterisk's
    "DTMF begin") as soon as the digit passes every test on what has been heard,
    32 to 36 ms into the tone: an event with ``end`` None, then the usual event
    when it ends.  Starts and ends pair up: a digit accepted only at its end gets
    its start just before its end, and a started digit gets its end even if a
    later window would have refused it (one off frequency, or too few windows
    passing: a few in a hundred in heavy noise, none for clean tones).
    """

    def __init__(self, double sample_rate=8000, law=None, bint report_start=False, **thresholds):
        self._engine = _Engine(1, sample_rate, law, thresholds, report_start)

    def feed(self, buf):
        """Feed samples (any buffer of native int16, or G.711 bytes); return ended digits
        (and, with ``report_start``, started ones)."""
        cdef Py_ssize_t n
        cdef const uint8_t[::1] data = self._engine._bytes(buf, &n)
        if n == 0:
            return []
        return [event for _, event in self._engine._feed(&data[0], n)]

    def flush(self):
        """End of stream: return the digit still sounding (if long enough) and reset."""
        return [event for _, event in self._engine._flush()]


cdef class MultiChannelDtmf(_Receiver):
    """DTMF receivers for ``channels`` streams fed together, channel-major.

    ``feed(buf)`` takes ``channels`` consecutive runs of n samples each (a span's
    20 ms block is channels x 160) and returns ``[(channel, event)]``.  ``law``,
    ``report_start`` and thresholds as for :class:`DtmfDetector`.
    """

    cdef readonly int channels

    def __init__(self, int channels, double sample_rate=8000, law=None, bint report_start=False,
                 **thresholds):
        self._engine = _Engine(channels, sample_rate, law, thresholds, report_start)
        self.channels = channels

    def feed(self, buf, active=None):
        """Feed one block for every channel; return [(channel, event)] for ended digits.

        ``active`` (a buffer of one byte per channel) limits the work to the channels
        whose byte is not 0; the others stand still until :meth:`reset_channel`.
        """
        cdef Py_ssize_t n
        cdef const uint8_t[::1] data = self._engine._bytes(buf, &n)
        cdef const uint8_t[::1] flags
        if n % self.channels:
            raise ValueError(f"{n} samples do not split into {self.channels} equal channel runs")
        if n == 0:
            return []
        if active is None:
            return self._engine._feed(&data[0], n // self.channels)
        flags = memoryview(active).cast("B")
        if flags.shape[0] != self.channels:
            raise ValueError(f"active has {flags.shape[0]} flags for {self.channels} channels")
        return self._engine._feed(&data[0], n // self.channels, &flags[0])

    def reset_channel(self, int channel):
        """Start ``channel`` afresh, as if it had been silent until now (a channel left
        out of ``active`` must be reset before it is fed again)."""
        if not 0 <= channel < self.channels:
            raise IndexError(f"no channel {channel} of {self.channels}")
        self._engine.reset_channel(channel)

    def flush(self):
        """End of every stream: digits still sounding, as [(channel, event)]; then reset."""
        return self._engine._flush()
