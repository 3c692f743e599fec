#!/usr/bin/env python3
"""A card for pcscd's virtual reader (vsmartcard-vpcd), and the supervisor of
a private pcscd, controlled over a unix socket by the Rust tests.

vpcd protocol: the card connects to 127.0.0.1:35963 (connected = inserted,
closed = removed); every message is a 2-byte big-endian length and a
payload; a 1-byte payload is a control code (0 power off, 1 power on,
2 reset, 4 send the ATR); anything longer is an APDU to answer.

Commands on the control socket, one per line, answered "ok" or "error …":
  insert UIDHEX [ATRHEX]   put a card with this UID on the reader
  remove                   take it away
  cut                      the card (this one, or the next inserted) answers
                           its next APDU by closing the connection
  pcscd-stop / pcscd-start stop or start pcscd
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import threading

VPCD = ("127.0.0.1", 35963)
# PC/SC part 3 ATR of an ISO 14443-A MIFARE Ultralight / NTAG.
DEFAULT_ATR = "3B8F8001804F0CA0000003060300030000000068"


class Card(threading.Thread):
    def __init__(self, uid, atr):
        super().__init__(daemon=True)
        self.uid = bytes.fromhex(uid)
        self.atr = bytes.fromhex(atr)
        self.cut_next = False
        self.sock = None
        self.stopped = False

    def connect(self):
        self.sock = socket.create_connection(VPCD, timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(None)

    def read_exact(self, n):
        data = b""
        while len(data) < n:
            # vpcd sends length and payload separately: without quick
            # acks every APDU would wait ~40 ms for a delayed ACK.
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def send(self, payload):
        self.sock.sendall(struct.pack(">H", len(payload)) + payload)

    def run(self):
        try:
            while not self.stopped:
                (length,) = struct.unpack(">H", self.read_exact(2))
                payload = self.read_exact(length)
                if length == 1:
                    if payload[0] == 4:
                        self.send(self.atr)
                    continue
                if self.cut_next:
                    self.sock.close()
                    return
                if payload[:5] == bytes.fromhex("FFCA000000"):
                    self.send(self.uid + b"\x90\x00")
                else:
                    self.send(b"\x6d\x00")
        except (EOFError, OSError):
            pass

    def remove(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        except OSError:
            pass


def main():
    control_path = sys.argv[1]
    pcscd = None
    card = None
    cut_pending = False

    def start_pcscd():
        nonlocal pcscd
        pcscd = subprocess.Popen(["pcscd", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop_pcscd():
        nonlocal pcscd
        if pcscd:
            pcscd.send_signal(signal.SIGTERM)
            pcscd.wait()
            pcscd = None

    start_pcscd()
    if os.path.exists(control_path):
        os.unlink(control_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(control_path)
    server.listen(1)
    while True:
        conn, _ = server.accept()
        with conn, conn.makefile("rw") as stream:
            for line in stream:
                words = line.split()
                try:
                    if words[0] == "insert":
                        if card:
                            card.remove()
                        card = Card(words[1], words[2] if len(words) > 2 else DEFAULT_ATR)
                        card.cut_next, cut_pending = cut_pending, False
                        card.connect()
                        card.start()
                    elif words[0] == "remove":
                        if card:
                            card.remove()
                            card = None
                    elif words[0] == "cut":
                        if card:
                            card.cut_next = True
                        else:
                            cut_pending = True
                    elif words[0] == "pcscd-stop":
                        if card:
                            card.remove()
                            card = None
                        stop_pcscd()
                    elif words[0] == "pcscd-start":
                        start_pcscd()
                    elif words[0] == "quit":
                        stop_pcscd()
                        stream.write("ok\n")
                        stream.flush()
                        return
                    stream.write("ok\n")
                except Exception as error:  # reported to the test, which fails
                    stream.write(f"error {error}\n")
                stream.flush()


if __name__ == "__main__":
    main()
