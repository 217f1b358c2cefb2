import os
import socket

from appliance.sdnotify import Notifier


def test_datagrams_reach_the_notify_socket(tmp_path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(path)
        notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"})
        assert notifier.watchdog_interval == 10.0
        assert notifier.ready("60 lines up") and notifier.watchdog()
        assert listener.recv(100) == b"READY=1\nSTATUS=60 lines up"
        assert listener.recv(100) == b"WATCHDOG=1"


def test_abstract_socket_names_and_no_systemd():
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        name = f"qbox-test-notify-{os.getpid()}"
        listener.bind("\0" + name)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).stopping()
        assert listener.recv(100) == b"STOPPING=1"
    quiet = Notifier({})
    assert not quiet.enabled and not quiet.ready() and quiet.watchdog_interval is None
