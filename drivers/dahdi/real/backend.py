"""The real DAHDI backend: spans and channels of the kernel driver behind ``dahdi:///dev/dahdi``.

Span status joins two kernel views: ``/proc/dahdi/N`` lists the channels (signalling,
in use, channel alarms) and the timing slips, ``DAHDI_SPANSTAT`` gives the span type,
alarms, line counters, line build-out and sync source as numbers.  Channels are opened
through ``/dev/dahdi/channel`` (see :mod:`drivers.dahdi.real.chanfile`).
"""
from __future__ import annotations

import errno
import logging
from urllib.parse import parse_qsl, urlsplit

from drivers.dahdi import procfs
from drivers.dahdi.interface import (
    BLOCK_SAMPLES, Alarm, Backend, Channel, DahdiError, DChannel, Mode, SpanCounters, SpanMedia,
    SpanStatus,
)
from drivers.dahdi.real import abi
from drivers.dahdi.real.chanfile import ChannelFile
from drivers.dahdi.real.channels import RealChannel, RealDChannel, RealSpanMedia
from drivers.dahdi.real.control import ControlDevice
from drivers.dahdi.real.device import DeviceIO, OsDeviceIO, dahdi_error

__all__ = ["DahdiBackend", "open_url", "DCHANNEL_SETTLE"]

log = logging.getLogger(__name__)

_ALARM_BITS = 0x3F             # DAHDI_ALARM_*; the upper byte holds LOS/LFA/LMFA detail
_VOICE_NUMBUFS = 4             # 4 x 20 ms queued each way: what chan_dahdi uses for voice
_DCHANNEL_SIGS = (abi.Sig.HDLCFCS, abi.Sig.HARDHDLC)
# How long a freshly opened D-channel idles (see DahdiBackend.open_dchannel): many ticks
# of 1 ms (DAHDI's core timer runs at least every 4 ms).
DCHANNEL_SETTLE = 0.05


class DahdiBackend(Backend):
    """Spans and channels of the DAHDI kernel driver.

    ``root`` is the device directory (``/dev/dahdi``), ``proc`` the procfs directory;
    ``io`` performs the system calls (a fake kernel in tests); ``dchannel_settle`` is how
    long :meth:`open_dchannel` lets a freshly opened D-channel idle.
    """

    def __init__(self, url: str = "dahdi:///dev/dahdi", root: str = "/dev/dahdi",
                 proc: str = "/proc/dahdi", io: DeviceIO | None = None,
                 numbufs: int = _VOICE_NUMBUFS, dchannel_settle: float = DCHANNEL_SETTLE) -> None:
        self.url = url
        self.root = root.rstrip("/") or "/"
        self.proc = proc.rstrip("/")
        self.io = io if io is not None else OsDeviceIO()
        self.numbufs = numbufs
        self.dchannel_settle = dchannel_settle
        self.control = ControlDevice(self.io, self.root)

    # --- status

    def spans(self, *, channels: bool = True) -> list[SpanStatus]:
        try:
            names = self.io.listdir(self.proc)
        except FileNotFoundError:
            raise dahdi_error(f"{self.proc}: not found (is the dahdi kernel module loaded?)",
                              errno.ENOENT) from None
        return [self.span_status(number, channels=channels)
                for number in sorted(int(n) for n in names if n.isdigit())]

    def span_status(self, span: int, *, channels: bool = True) -> SpanStatus:
        proc_span = self._proc_span(span, channels=channels)
        info = self.control.span_info(span)
        counters = SpanCounters(bpv=info.bpvcount, crc4=info.crc4count, fas=info.fascount,
                                ebit=info.ebitcount, slips=proc_span.counters.slips)
        return proc_span.to_status(
            spantype=info.spantype.decode("ascii", "replace"),
            lbo=info.lboname.decode("ascii", "replace"),
            sync_source=info.syncsrc,
            alarms=Alarm(info.alarms & _ALARM_BITS),
            counters=counters,
            channels=channels,
        )

    # --- opening channels

    def open_span_media(self, span: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES) -> SpanMedia:
        bearers = [c.channo for c in self._proc_span(span).channels if procfs.is_bearer(c.signalling)]
        if not bearers:
            raise DahdiError(f"DAHDI span {span} has no configured B-channels (bchan= in system.conf)")
        files: list[ChannelFile] = []
        try:
            for channo in bearers:
                files.append(self._open_voice(channo, mode, blocksize))
            # Each channel's blocks are timed from its own set-up, spread over however long
            # the opens took: restart them all together, so they start in phase (and what
            # the first channels received meanwhile is not left queued as a standing delay).
            for file in files:
                file.flush_read()
            media = RealSpanMedia(files, mode, blocksize)
        except BaseException:
            for file in files:
                file.close()
            raise
        log.info("event=span_media_open span=%d channels=%d mode=%s blocksize=%d",
                 span, len(files), mode, blocksize)
        return media

    def open_dchannel(self, span: int) -> DChannel:
        """The span's HDLC D-channel, returned once its framers have settled.

        Opening restarts the channel's HDLC receiver (it hunts for a flag again) and
        transmitter (initialize_channel()); a frame crossing before the span's next tick
        is lost without an event (in the qemu guest: 9 of 25 frames sent at once were
        lost, none of 6 sent 50 ms later).  Waiting :data:`DCHANNEL_SETTLE` here covers
        the frames qbox sends first; a frame the far end happens to send around our open
        is lost like any frame on a noisy line, and Q.921 resends it (T200).
        """
        dchannels = [c for c in self._proc_span(span).channels if procfs.is_dchannel(c.signalling)]
        if not dchannels:
            raise DahdiError(f"DAHDI span {span} has no D-channel (dchan= or hardhdlc= in system.conf)")
        file = ChannelFile(self.io, self.root, dchannels[0].channo)
        try:
            if file.sigtype not in _DCHANNEL_SIGS:
                raise DahdiError(f"DAHDI channel {file.channo} is {self._signalling(file)}, not an HDLC D-channel")
            dchannel = RealDChannel(file)
        except BaseException:
            file.close()
            raise
        self.io.sleep(self.dchannel_settle)
        log.info("event=dchannel_open span=%d channo=%d", span, file.channo)
        return dchannel

    def open_channel(self, channo: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES) -> Channel:
        return RealChannel(self._open_voice(channo, mode, blocksize), mode, blocksize)

    def close(self) -> None:
        self.control.close()

    # --- helpers

    def _proc_span(self, span: int, *, channels: bool = True) -> procfs.ProcSpan:
        path = f"{self.proc}/{span}"
        try:
            text = self.io.read_text(path)
        except FileNotFoundError:
            raise dahdi_error(f"DAHDI span {span} does not exist ({path} is missing)", errno.ENOENT) from None
        try:
            return procfs.parse_proc_span(text, source=path, channels=channels)
        except procfs.ProcFormatError as exc:
            raise DahdiError(str(exc)) from None

    def _open_voice(self, channo: int, mode: Mode, blocksize: int) -> ChannelFile:
        file = ChannelFile(self.io, self.root, channo)
        try:
            if not procfs.is_bearer(self._signalling(file)):
                raise DahdiError(f"DAHDI channel {channo} is {self._signalling(file)}, not a voice channel")
            file.set_blocksize(blocksize)
            file.set_buffers(self.numbufs)
            file.set_mode(mode)
        except BaseException:
            file.close()
            raise
        return file

    @staticmethod
    def _signalling(file: ChannelFile) -> str:
        return abi.SIG_NAMES.get(file.sigtype, f"signalling 0x{file.sigtype:x}")


def open_url(url: str, **options) -> DahdiBackend:
    """Open ``dahdi:///dev/dahdi`` (the path is the device directory).

    Options, as keywords or URL query (keywords win): ``proc`` (default ``/proc/dahdi``),
    ``numbufs`` (voice buffers each way, default 4), ``io`` (keyword only: a DeviceIO).
    """
    parts = urlsplit(url)
    if parts.scheme != "dahdi" or parts.netloc:
        raise DahdiError(f"{url}: expected dahdi:///DEVICE-DIRECTORY, e.g. dahdi:///dev/dahdi")
    merged: dict = dict(parse_qsl(parts.query))
    merged.update(options)
    unknown = set(merged) - {"proc", "numbufs", "io"}
    if unknown:
        raise DahdiError(f"{url}: unknown option(s) {', '.join(sorted(unknown))} (known: io, numbufs, proc)")
    try:
        numbufs = int(merged.get("numbufs", _VOICE_NUMBUFS))
    except ValueError:
        raise DahdiError(f"{url}: numbufs must be a whole number, got {merged['numbufs']!r}") from None
    return DahdiBackend(url=url, root=parts.path or "/dev/dahdi", proc=merged.get("proc", "/proc/dahdi"),
                        io=merged.get("io"), numbufs=numbufs)
