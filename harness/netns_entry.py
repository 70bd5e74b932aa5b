"""Runs inside a new network namespace (stdlib only): loopback up, a relay from 127.0.0.1:PORT to
a Unix socket the harness serves outside, then exec's the browser.

    python3 netns_entry.py SOCKET_PATH PORT BROWSER [BROWSER ARGS...]

The namespace has no interface but `lo`, so no host interface appearing or vanishing (a veth per
pod start on a single-node cluster) can reach the browser's network-change detection. The relay
is a forked child that dies with the browser (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import struct
import sys
import threading

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
PR_SET_PDEATHSIG = 1
CHUNK = 65536


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(control, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(control, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(CHUNK):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for side in (source, sink):
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)


def relay(listener: socket.socket, socket_path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(socket_path)
        except OSError:
            client.close()
            upstream.close()
            continue
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def main() -> None:
    socket_path, port, browser, *browser_args = sys.argv[1:]
    loopback_up()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(port)))
    listener.listen(64)
    browser_pid = os.getpid()
    if os.fork() == 0:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != browser_pid:
            os._exit(0)
        # Let go of the browser's stdio and its DevTools pipe (fds 3, 4) so only the browser holds them.
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        keep = {listener.fileno(), devnull, 0, 1, 2}
        for fd in range(3, 64):
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        relay(listener, socket_path)
        os._exit(0)
    listener.close()
    os.execv(browser, [browser, *browser_args])


if __name__ == "__main__":
    main()
