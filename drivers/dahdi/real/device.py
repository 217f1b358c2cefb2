"""The thin layer between the DAHDI backend and the operating system.

Every system call the real backend makes goes through a :class:`DeviceIO`, so tests
hand it a fake kernel instead of ``/dev/dahdi``, and the code above stays the code that
runs on a box.  :class:`OsDeviceIO` is the real one.  The helpers pass ioctl arguments
the way the DAHDI kernel reads them: integers by pointer, structures as mutable buffers.
"""
from __future__ import annotations

import ctypes
import fcntl
import os
import select
import time
from typing import Protocol, TypeVar

from drivers.dahdi.interface import DahdiError

__all__ = ["DeviceIO", "ReadySet", "OsDeviceIO", "EpollReadySet",
           "ioctl_int", "ioctl_struct", "dahdi_error"]

S = TypeVar("S", bound=ctypes.Structure)


class ReadySet(Protocol):
    """One descriptor that polls readable while any of its *armed* descriptors has data.

    What lets a reader wait on "the channels still missing their block" with a single
    ``loop.add_reader``: an epoll set on the real system.
    """

    def fileno(self) -> int: ...

    def add(self, fd: int) -> None:
        """Watch ``fd`` for input, armed."""

    def arm(self, fd: int, armed: bool) -> None:
        """Count ``fd``'s input towards readiness (True) or ignore it for now (False)."""

    def close(self) -> None: ...


class DeviceIO(Protocol):
    """The system calls the backend uses; errors are ``OSError`` with the kernel's errno."""

    def open(self, path: str, flags: int) -> int: ...

    def close(self, fd: int) -> None: ...

    def read(self, fd: int, size: int) -> bytes: ...

    def write(self, fd: int, data: bytes) -> int: ...

    def ioctl(self, fd: int, request: int, arg: bytearray) -> int:
        """Run ``ioctl(fd, request, arg)``; the kernel may rewrite ``arg`` in place."""

    def read_text(self, path: str) -> str: ...

    def listdir(self, path: str) -> list[str]: ...

    def ready_set(self) -> ReadySet:
        """A new, empty :class:`ReadySet`."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass (the line keeps running meanwhile)."""


class OsDeviceIO:
    """:class:`DeviceIO` on the real operating system."""

    def open(self, path: str, flags: int) -> int:
        return os.open(path, flags)

    def close(self, fd: int) -> None:
        os.close(fd)

    def read(self, fd: int, size: int) -> bytes:
        return os.read(fd, size)

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def ioctl(self, fd: int, request: int, arg: bytearray) -> int:
        return fcntl.ioctl(fd, request, arg, True)

    def read_text(self, path: str) -> str:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()

    def listdir(self, path: str) -> list[str]:
        return os.listdir(path)

    def ready_set(self) -> "EpollReadySet":
        return EpollReadySet()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class EpollReadySet:
    """:class:`ReadySet` as a level-triggered epoll set (DAHDI channels poll POLLIN per block).

    A disarmed descriptor stays registered with no events, so arming it again is one
    ``epoll_ctl``, and closing the channel removes it from the set by itself.
    """

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._armed: dict[int, bool] = {}

    def fileno(self) -> int:
        return self._epoll.fileno()

    def add(self, fd: int) -> None:
        self._epoll.register(fd, select.EPOLLIN)
        self._armed[fd] = True

    def arm(self, fd: int, armed: bool) -> None:
        if self._armed[fd] != armed:
            self._epoll.modify(fd, select.EPOLLIN if armed else 0)
            self._armed[fd] = armed

    def close(self) -> None:
        self._epoll.close()


def ioctl_int(io: DeviceIO, fd: int, request: int, value: int = 0) -> int:
    """An ioctl whose argument is an ``int *``: send ``value``, return what the kernel left."""
    arg = bytearray(ctypes.c_int(value))
    io.ioctl(fd, request, arg)
    return ctypes.c_int.from_buffer(arg).value


def ioctl_struct(io: DeviceIO, fd: int, request: int, struct: S) -> S:
    """An ioctl on a structure: send ``struct``, return the structure the kernel left."""
    arg = bytearray(struct)
    io.ioctl(fd, request, arg)
    return type(struct).from_buffer_copy(arg)


def dahdi_error(message: str, code: int | None = None) -> DahdiError:
    """A one-line :class:`DahdiError` that still carries the kernel's errno."""
    error = DahdiError(message)
    error.errno = code
    return error
