"""``/dev/dahdi/ctl``: span statistics, channel parameters, and dynamic spans."""
from __future__ import annotations

import errno
import os

from drivers.dahdi.interface import DahdiError
from drivers.dahdi.real import abi
from drivers.dahdi.real.device import DeviceIO, dahdi_error, ioctl_struct

__all__ = ["ControlDevice"]


class ControlDevice:
    """The DAHDI control device, opened on first use and kept open until :meth:`close`."""

    def __init__(self, io: DeviceIO, root: str) -> None:
        self.io = io
        self.path = f"{root}/ctl"
        self._fd = -1

    def span_info(self, span: int) -> abi.DahdiSpanInfo:
        """``DAHDI_SPANSTAT`` for span number ``span`` (1-based)."""
        if span < 1:
            raise DahdiError(f"DAHDI span numbers start at 1, got {span}")
        return self._call(abi.DAHDI_SPANSTAT, abi.DahdiSpanInfo(spanno=span), f"DAHDI span {span}")

    def channel_params(self, channo: int) -> abi.DahdiParams:
        """``DAHDI_GET_PARAMS`` for global channel number ``channo``."""
        return self._call(abi.DAHDI_GET_PARAMS, abi.DahdiParams(channo=channo), f"DAHDI channel {channo}")

    def create_dynamic_span(self, driver: str, address: str, numchans: int, timing: int = 0) -> int:
        """``DAHDI_DYNAMIC_CREATE`` (what ``dynamic=loc,1:0,24,0`` does); returns the span number."""
        spec = self._dynamic(driver, address, numchans, timing)
        return self._call(abi.DAHDI_DYNAMIC_CREATE, spec, f"dynamic span {driver}/{address}").spanno

    def destroy_dynamic_span(self, driver: str, address: str) -> None:
        """``DAHDI_DYNAMIC_DESTROY``: the span's peer sees RED, as if the line were cut."""
        spec = self._dynamic(driver, address, 0, 0)
        self._call(abi.DAHDI_DYNAMIC_DESTROY, spec, f"dynamic span {driver}/{address}")

    def close(self) -> None:
        if self._fd >= 0:
            self.io.close(self._fd)
            self._fd = -1

    @staticmethod
    def _dynamic(driver: str, address: str, numchans: int, timing: int) -> abi.DahdiDynamicSpan:
        raw_driver, raw_address = driver.encode("ascii"), address.encode("ascii")
        if len(raw_driver) >= 20 or len(raw_address) >= 40:
            raise DahdiError(f"dynamic span {driver}/{address}: driver is at most 19 characters, address 39")
        return abi.DahdiDynamicSpan(driver=raw_driver, addr=raw_address, numchans=numchans, timing=timing)

    def _call(self, request: abi.Ioctl, struct, what: str):
        fd = self._open()
        try:
            return ioctl_struct(self.io, fd, request, struct)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT, errno.ENODEV):
                raise dahdi_error(f"{what} does not exist", exc.errno) from None
            raise dahdi_error(f"{what}: {request.name} failed: {exc.strerror}", exc.errno) from None

    def _open(self) -> int:
        if self._fd < 0:
            try:
                self._fd = self.io.open(self.path, os.O_RDWR)
            except OSError as exc:
                hint = " (is the dahdi kernel module loaded?)" if exc.errno == errno.ENOENT else ""
                raise dahdi_error(f"{self.path}: cannot open: {exc.strerror}{hint}", exc.errno) from None
        return self._fd
