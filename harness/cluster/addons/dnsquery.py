"""A minimal DNS A-record query (stdlib only), to check cluster DNS from the node itself."""

from __future__ import annotations

import secrets
import socket
import struct


class DnsError(Exception):
    pass


RCODES = {1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def _encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise DnsError(f"bad label in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _skip_name(msg: bytes, pos: int) -> int:
    while True:
        length = msg[pos]
        if length & 0xC0 == 0xC0:  # compression pointer ends the name
            return pos + 2
        pos += 1 + length
        if length == 0:
            return pos


def query_a(server: str, name: str, port: int = 53, timeout: float = 2.0) -> list[str]:
    """IPv4 addresses of `name` as answered by `server`; raises DnsError on any failure."""
    txid = secrets.randbits(16)
    packet = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + _encode_name(name) + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (server, port))
            msg, _ = sock.recvfrom(4096)
        except OSError as exc:
            raise DnsError(f"{server}:{port}: {exc}") from None
    rid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    if rid != txid:
        raise DnsError("answer with another transaction id")
    if flags & 0xF:
        raise DnsError(f"{name}: {RCODES.get(flags & 0xF, flags & 0xF)}")
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    addresses = []
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[pos : pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(msg[pos : pos + 4]))
        pos += rdlen
    return addresses
