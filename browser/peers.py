"""Which local process is on the other end of a loopback TCP connection (Linux /proc).

The egress proxy listens on loopback, where any process of the machine can reach it; only this
worker's own Chromium may use it, or any local process could borrow the worker's network
position (and its egress allow-list) through it. Linux has no SO_PEERCRED for TCP, so the
connecting socket is looked up by its address pair (sock_diag), which gives its inode, and the
inode is looked for among the open files of this worker's Chromium processes. The network
service process that opens every connection is remembered and checked first.
"""

import contextlib
import os
import socket
import struct
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_HEADER = 16
ALL_STATES = 0xFFFFFFFF
NO_COOKIE = 0xFFFFFFFF
INODE_OFFSET = 68  # in struct inet_diag_msg: family..retrans (4), sockid (48), expires..uid (16)
REFRESH_AT_MOST_EVERY = 1.0  # seconds: a flood of foreign connections cannot make us walk /proc


def available() -> bool:
    """Whether this system can tell who is on the other end (Linux with sock_diag and /proc)."""
    try:
        SocketTable().close()
    except OSError:
        return False
    return Path("/proc/self/fd").is_dir()


def is_chromium(name: str) -> bool:
    """Chromium's process names: chromium, chrome, chromium-headless-shell, headless_shell."""
    return "chrom" in name or "headless_shell" in name


def chromium_descendants(root: psutil.Process | None = None) -> list[int]:
    """Running Chromium processes that descend from `root` (this process by default)."""
    root = root or psutil.Process()
    pids = []
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if is_chromium(child.name()) and child.status() != psutil.STATUS_ZOMBIE:
                pids.append(child.pid)
    return pids


class OwnProcesses:
    """`owns(sock)`: is the peer of this accepted loopback socket one of our processes?"""

    def __init__(self, pids: Callable[[], Iterable[int]] = chromium_descendants):
        self._list_pids = pids
        self._table = SocketTable()
        self._pids: list[int] = []
        self._refreshed = float("-inf")

    def close(self) -> None:
        self._table.close()

    def refresh(self) -> None:
        """Call when a browser was launched; a miss also refreshes, at most once a second."""
        self._pids = list(self._list_pids())
        self._refreshed = time.monotonic()

    def owns(self, sock: socket.socket) -> bool:
        try:
            inode = self._table.inode(sock.family, sock.getpeername(), sock.getsockname())
        except OSError:
            return False
        if inode is None:
            return False
        if self._find(inode, self._pids):
            return True
        if time.monotonic() - self._refreshed < REFRESH_AT_MOST_EVERY:
            return False
        self.refresh()
        return self._find(inode, self._pids)

    def _find(self, inode: int, pids: list[int]) -> bool:
        target = f"socket:[{inode}]"
        for position, pid in enumerate(pids):
            if _holds(pid, target):
                if position:  # the network service goes first next time
                    pids.insert(0, pids.pop(position))
                return True
        return False


def _holds(pid: int, target: str) -> bool:
    directory = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(directory)
    except OSError:
        return False
    # Newest connections have the highest descriptors: look there first.
    for fd in sorted(fds, key=int, reverse=True):
        with contextlib.suppress(OSError):
            if os.readlink(f"{directory}/{fd}") == target:
                return True
    return False


class SocketTable:
    """Finds one TCP socket's inode with a NETLINK_SOCK_DIAG request for its exact address pair:
    one hash lookup in the kernel (about 20 µs), where reading /proc/net/tcp walks every socket
    of the machine (4 ms here with under 200 of them)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def inode(self, family: int, local: tuple, remote: tuple) -> int | None:
        """The inode of the TCP socket whose own address is `local` and whose peer is `remote`."""
        self._seq += 1
        request = struct.pack("=BBBxI", family, socket.IPPROTO_TCP, 0, ALL_STATES)
        request += struct.pack("!HH", local[1], remote[1])
        request += _address(family, local[0]) + _address(family, remote[0])
        request += struct.pack("=III", 0, NO_COOKIE, NO_COOKIE)
        header = struct.pack(
            "=IHHII", NLMSG_HEADER + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, self._seq, 0
        )
        self._sock.send(header + request)
        while True:
            answer = self._sock.recv(8192)
            _, kind, _, seq, _ = struct.unpack_from("=IHHII", answer)
            if seq == self._seq:
                break
        if kind != SOCK_DIAG_BY_FAMILY or len(answer) < NLMSG_HEADER + INODE_OFFSET + 4:
            return None  # NLMSG_ERROR: no such socket (it closed meanwhile)
        return struct.unpack_from("=I", answer, NLMSG_HEADER + INODE_OFFSET)[0] or None


def _address(family: int, host: str) -> bytes:
    """inet_diag's 16-byte address field: the address in network order, zero-padded."""
    return socket.inet_pton(family, host).ljust(16, b"\0")
