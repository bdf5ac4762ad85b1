"""Kernel timestamps of sent bytes (Linux SO_TIMESTAMPING), for the emulator's call log and for
clients that time themselves against it (bench/aws/aws_bench.py)."""
import os
import socket
import struct
import sys

# Linux's SO_TIMESTAMPING (also the SCM_ type of its control message) and the flags used here
# (linux/net_tstamp.h): a software timestamp when a sent segment leaves for the device (on
# loopback, just before it is queued to the receiving socket), reported on the error queue with
# the byte offset of the send's last byte (OPT_ID) and without the payload (OPT_TSONLY).
SO_TIMESTAMPING = 37 if sys.platform.startswith("linux") else None
_SOF_TX_SOFTWARE, _SOF_SOFTWARE, _SOF_OPT_ID, _SOF_OPT_TSONLY = 1 << 1, 1 << 4, 1 << 7, 1 << 11
_IP_RECVERR, _IPV6_RECVERR = 11, 25
_SO_EE_ORIGIN_TIMESTAMPING = 4


class SentStamps:
    """When each write on a TCP socket left this host: the kernel's transmit timestamp of its last
    byte (SO_TIMESTAMPING, read from the socket's error queue right after the write). On loopback
    it is taken before the bytes are queued to the peer's socket, so the peer can never have them
    earlier, and the writer's own time between deciding to write and the bytes leaving is not in
    it. The emulator's call log gives it as "sent", a kernel witness like "received"."""

    def __init__(self, sock):
        if SO_TIMESTAMPING is None:
            raise OSError("SO_TIMESTAMPING is Linux's")
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING,
                        _SOF_TX_SOFTWARE | _SOF_SOFTWARE | _SOF_OPT_ID | _SOF_OPT_TSONLY)
        # The error queue is read through a second descriptor without a Python timeout: on a socket
        # with one, an empty error queue (EAGAIN) makes Python wait for the socket to be readable
        # and retry, which spins while ordinary data is waiting. Owned here: close() it.
        self._errq = socket.socket(fileno=os.dup(sock.fileno()))
        self._bytes = 0  # written since timestamping began (OPT_ID counts from there)

    def close(self):
        self._errq.close()

    def _drain(self):
        """[(byte offset, unix seconds)] waiting on the error queue."""
        out = []
        while True:
            try:
                _, anc, _, _ = self._errq.recvmsg(1, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:
                return out
            stamp = key = None
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING and len(data) >= 16:
                    sec, nsec = struct.unpack("qq", data[:16])
                    if sec or nsec:
                        stamp = sec + nsec / 1e9
                elif (level, kind) in ((socket.IPPROTO_IP, _IP_RECVERR), (socket.IPPROTO_IPV6, _IPV6_RECVERR)) \
                        and len(data) >= 16:
                    _errno, origin, _type, _code, _pad, _info, ee_data = struct.unpack("IBBBBII", data[:16])
                    if origin == _SO_EE_ORIGIN_TIMESTAMPING:
                        key = ee_data
            if stamp is not None and key is not None:
                out.append((key, stamp))

    def prepare(self):
        """Drops stamps of earlier writes that came late; call just before write(), and before
        taking any user-space stamp to compare with the result."""
        self._drain()

    def write(self, send, data):
        """send(data) (a sendall); -> when data's last byte left by the kernel's clock (None if the
        kernel gave no such timestamp)."""
        send(data)
        self._bytes += len(data)
        last = (self._bytes - 1) & 0xFFFFFFFF
        for key, stamp in self._drain():
            if key == last:
                return stamp
        return None


