#!/usr/bin/env python3
"""A card for pcscd's virtual reader (vsmartcard-vpcd), and the supervisor of
a private pcscd, controlled over a unix socket by the Rust tests.

vpcd protocol: the card connects to 127.0.0.1:35963 (connected = inserted,
closed = removed); every message is a 2-byte big-endian length and a
payload; a 1-byte payload is a control code (0 power off, 1 power on,
2 reset, 4 send the ATR); anything longer is an APDU to answer.

Commands on the control socket, one per line, answered "ok" or "error …":
  insert UIDHEX [ATRHEX]   put a card with this UID on the reader (UID only)
  insert-424 UIDHEX        put the NTAG 424 DNA band with this UID on the
                           reader: factory-fresh the first time, then as it
                           was left (its keys stay across taps, like a band)
  insert-clone UIDHEX [INNERUIDHEX]
                           a clone: a fresh NTAG 424 DNA showing this UID at
                           anticollision (and INNERUID inside, if given)
  insert-foreign UIDHEX FROMUIDHEX [INNERUIDHEX]
                           a card showing UID that holds the keys of the
                           band FROMUID (a key read out of another band),
                           and INNERUID (default UID) inside
  remove                   take it away
  cut [N]                  the card (this one, or the next inserted) closes
                           the connection at its Nth APDU from now (1)
  pcscd-stop / pcscd-start stop or start pcscd

The NTAG 424 DNA answers SELECT of its application, GetKeyVersion,
AuthenticateEV2First (both parts), GetCardUID, ChangeKey and
ChangeFileSettings in full mode with its own AES keys (python3-cryptography),
WriteData of its NDEF file, and a phone's ISO SELECT of the NDEF file and
READ BINARY — with Secure Dynamic Messaging: the encrypted UID and read
counter and the MAC mirrored into the link, the counter going up once per
placing — as NT4H2421Gx and AN12196 describe.
"""
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading

VPCD = ("127.0.0.1", 35963)
# PC/SC part 3 ATR of an ISO 14443-A MIFARE Ultralight / NTAG.
DEFAULT_ATR = "3B8F8001804F0CA0000003060300030000000068"


# ATR of an ISO 14443-4 card through a PC/SC reader (NTAG 424 DNA).
NTAG424_ATR = "3B8180018080"
SELECT_424 = bytes.fromhex("00A4040C07D276000085010100")


def aes_cbc(key, iv, data, encrypt):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def cmac(key, data):
    from cryptography.hazmat.primitives.cmac import CMAC
    from cryptography.hazmat.primitives.ciphers import algorithms

    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def mac_t(key, data):
    return cmac(key, data)[1::2]


def rotl(data):
    return data[1:] + data[:1]


def crc32_nk(data):
    import zlib

    return (zlib.crc32(data) ^ 0xFFFFFFFF).to_bytes(4, "little")


def pad(data):
    data = data + b"\x80"
    return data + b"\x00" * (-len(data) % 16)


class Band:
    """An NTAG 424 DNA's memory: what stays when it leaves the reader."""

    def __init__(self, inner_uid):
        self.inner_uid = inner_uid
        self.keys = [bytes(16)] * 5
        self.versions = [0] * 5
        # The NDEF file (file 02) as it leaves the factory: empty, read and
        # write free (access E), SDM off.
        self.ndef = bytearray(256)
        self.write_access = 0xE
        self.sdm = None  # (meta_read_key, file_read_key, picc, mac_input, mac)
        self.read_counter = 0

    def ndef_as_read(self):
        """The NDEF file as a reader sees it: with SDM, the encrypted UID
        and read counter and the MAC mirrored in as hex (counted once per
        placing by the caller)."""
        data = bytearray(self.ndef)
        if self.sdm:
            meta, file_read, picc, mac_input, mac_at = self.sdm
            counter = self.read_counter.to_bytes(3, "little")
            plain = b"\xc7" + self.inner_uid + counter + secrets.token_bytes(5)
            encrypted = aes_cbc(self.keys[meta], bytes(16), plain, True)
            data[picc : picc + 32] = encrypted.hex().upper().encode()
            vector = b"\x3c\xc3\x00\x01\x00\x80" + self.inner_uid + counter
            session_mac = cmac(self.keys[file_read], vector)
            mac = mac_t(session_mac, bytes(data[mac_input:mac_at]))
            data[mac_at : mac_at + 16] = mac.hex().upper().encode()
        return bytes(data)


class Ntag424:
    """The card's side of the protocol, for one placing on the reader."""

    def __init__(self, band):
        self.band = band
        self.selected = False
        self.pending = None  # (key_no, rnd_b) between the two auth parts
        self.session = None  # (key_no, enc, mac, ti, counter)
        self.file = None  # the ISO-selected file
        self.counted = False  # the SDM read counter went up this placing

    def answer(self, apdu):
        if apdu[:12] == SELECT_424[:12]:
            self.selected = True
            self.session = None
            return b"\x90\x00"
        if apdu[:7] == bytes.fromhex("00A4000C02E104") and self.selected:
            self.file = 2
            return b"\x90\x00"
        if apdu[:2] == b"\x00\xb0" and self.file == 2:  # READ BINARY
            if self.band.sdm and not self.counted:
                self.band.read_counter += 1
                self.counted = True
            offset = int.from_bytes(apdu[2:4], "big")
            length = apdu[4] or 256
            return self.band.ndef_as_read()[offset : offset + length] + b"\x90\x00"
        if apdu[0] != 0x90 or not self.selected:
            return b"\x6d\x00"
        command = apdu[1]
        data = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
        if command == 0x64:  # GetKeyVersion (plain, unauthenticated)
            return bytes([self.band.versions[data[0]]]) + b"\x91\x00"
        if command == 0x71:  # AuthenticateEV2First, part 1
            key_no = data[0]
            self.session = None
            rnd_b = secrets.token_bytes(16)
            self.pending = (key_no, rnd_b)
            return aes_cbc(self.band.keys[key_no], bytes(16), rnd_b, True) + b"\x91\xaf"
        if command == 0xAF and self.pending:  # part 2
            key_no, rnd_b = self.pending
            self.pending = None
            key = self.band.keys[key_no]
            plain = aes_cbc(key, bytes(16), data, False)
            rnd_a, rnd_b_rot = plain[:16], plain[16:]
            if rnd_b_rot != rotl(rnd_b):
                return b"\x91\xae"
            ti = secrets.token_bytes(4)

            def vector(label):
                return (
                    label
                    + b"\x00\x01\x00\x80"
                    + rnd_a[0:2]
                    + bytes(a ^ b for a, b in zip(rnd_a[2:8], rnd_b[0:6]))
                    + rnd_b[6:16]
                    + rnd_a[8:16]
                )

            enc = cmac(key, vector(b"\xa5\x5a"))
            mac = cmac(key, vector(b"\x5a\xa5"))
            self.session = [key_no, enc, mac, ti, 0]
            proof = ti + rotl(rnd_a) + bytes(12)
            return aes_cbc(key, bytes(16), proof, True) + b"\x91\x00"
        if command == 0x8D:  # WriteData, plain file
            file_no, offset, length = data[0], int.from_bytes(data[1:4], "little"), int.from_bytes(data[4:7], "little")
            allowed = self.band.write_access == 0xE or (self.session and self.session[0] == self.band.write_access)
            if file_no != 2 or not allowed:
                return b"\x91\x9d"
            self.band.ndef[offset : offset + length] = data[7 : 7 + length]
            if self.session:  # counted in a session, though not MACed
                self.session[4] += 1
            return b"\x91\x00"
        if not self.session:
            return b"\x91\xae"
        key_no, enc, mac, ti, counter = self.session

        def iv(label, ctr):
            block = label + ti + ctr.to_bytes(2, "little") + bytes(8)
            return aes_cbc(enc, bytes(16), block, True)

        if command == 0x51:  # GetCardUID, full mode
            if data != mac_t(mac, b"\x51" + counter.to_bytes(2, "little") + ti):
                self.session = None
                return b"\x91\x1e"
            counter += 1
            self.session[4] = counter
            encrypted = aes_cbc(enc, iv(b"\x5a\xa5", counter), pad(self.band.inner_uid), True)
            answer_mac = mac_t(mac, b"\x00" + counter.to_bytes(2, "little") + ti + encrypted)
            return encrypted + answer_mac + b"\x91\x00"
        if command == 0xC4:  # ChangeKey, full mode
            target, encrypted, given_mac = data[0], data[1:33], data[33:41]
            expected = mac_t(mac, b"\xc4" + counter.to_bytes(2, "little") + ti + bytes([target]) + encrypted)
            if given_mac != expected:
                self.session = None
                return b"\x91\x1e"
            if key_no != 0:
                return b"\x91\x9d"
            plain = aes_cbc(enc, iv(b"\xa5\x5a", counter), encrypted, False)
            counter += 1
            if target == key_no:
                self.band.keys[target] = plain[:16]
                self.band.versions[target] = plain[16]
                self.session = None
                return b"\x91\x00"
            new = bytes(a ^ b for a, b in zip(plain[:16], self.band.keys[target]))
            if plain[17:21] != crc32_nk(new):
                return b"\x91\x1e"
            self.band.keys[target] = new
            self.band.versions[target] = plain[16]
            self.session[4] = counter
            return mac_t(mac, b"\x00" + counter.to_bytes(2, "little") + ti) + b"\x91\x00"
        if command == 0x5F:  # ChangeFileSettings, full mode
            file_no, encrypted, given_mac = data[0], data[1:-8], data[-8:]
            expected = mac_t(mac, b"\x5f" + counter.to_bytes(2, "little") + ti + bytes([file_no]) + encrypted)
            if given_mac != expected:
                self.session = None
                return b"\x91\x1e"
            if key_no != 0 or file_no != 2:
                return b"\x91\x9d"
            plain = aes_cbc(enc, iv(b"\xa5\x5a", counter), encrypted, False)
            counter += 1
            self.session[4] = counter
            option, access, sdm_options, sdm_access = plain[0], plain[1:3], plain[3], plain[4:6]
            self.band.write_access = access[1] & 0x0F
            if option & 0x40:
                if sdm_options != 0xC1:  # UID and counter mirrored, ASCII: all this card does
                    return b"\x91\x9e"
                offsets = [int.from_bytes(plain[6 + 3 * i : 9 + 3 * i], "little") for i in range(3)]
                self.band.sdm = (sdm_access[1] >> 4, sdm_access[1] & 0x0F, *offsets)
            else:
                self.band.sdm = None
            return mac_t(mac, b"\x00" + counter.to_bytes(2, "little") + ti) + b"\x91\x00"
        return b"\x91\x1c"


class Card(threading.Thread):
    def __init__(self, uid, atr, band=None):
        super().__init__(daemon=True)
        self.uid = bytes.fromhex(uid)
        self.atr = bytes.fromhex(atr)
        self.ntag424 = Ntag424(band) if band else None
        self.cut_at = 0
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
                if self.cut_at:
                    self.cut_at -= 1
                    if self.cut_at == 0:
                        self.sock.close()
                        return
                if payload[:5] == bytes.fromhex("FFCA000000"):
                    self.send(self.uid + b"\x90\x00")
                elif self.ntag424:
                    self.send(self.ntag424.answer(payload))
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
    cut_pending = 0
    bands = {}

    def band(uid):
        if uid not in bands:
            bands[uid] = Band(bytes.fromhex(uid))
        return bands[uid]

    def put(new_card):
        nonlocal card, cut_pending
        if card:
            card.remove()
        card = new_card
        card.cut_at, cut_pending = cut_pending, 0
        card.connect()
        card.start()

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
                        put(Card(words[1], words[2] if len(words) > 2 else DEFAULT_ATR))
                    elif words[0] == "insert-424":
                        put(Card(words[1], NTAG424_ATR, band(words[1].upper())))
                    elif words[0] == "insert-clone":
                        inner = words[2] if len(words) > 2 else words[1]
                        put(Card(words[1], NTAG424_ATR, Band(bytes.fromhex(inner))))
                    elif words[0] == "insert-foreign":
                        source = band(words[2].upper())
                        foreign = Band(bytes.fromhex(words[3] if len(words) > 3 else words[1]))
                        foreign.keys = list(source.keys)
                        foreign.versions = list(source.versions)
                        put(Card(words[1], NTAG424_ATR, foreign))
                    elif words[0] == "remove":
                        if card:
                            card.remove()
                            card = None
                    elif words[0] == "cut":
                        at = int(words[1]) if len(words) > 1 else 1
                        if card:
                            card.cut_at = at
                        else:
                            cut_pending = at
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
