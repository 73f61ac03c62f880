"""Holds a signalling WebSocket open to a consultd, as a patient's page would: connects to
ws://HOST:PORT/ws, says hello with the token, then prints the type of every message the
appliance sends (one per line, flushed) and answers its pings, until the appliance closes
the socket or the process is stopped. Standard library only (the boot test runs it on the
host against the box's forwarded port).

  ws_hold.py HOST PORT TOKEN
"""
import base64
import json
import os
import signal
import socket
import struct
import sys


def frame(opcode, payload):
    """A client frame: FIN, the opcode, masked as RFC 6455 requires of clients."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def read_frame(sock):
    b0, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", read_exact(sock, 8))[0]
    if n > 1 << 20:
        raise ValueError("a frame over 1 MiB")
    mask = read_exact(sock, 4) if b1 & 0x80 else None
    payload = read_exact(sock, n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return b0 & 0x0F, payload


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: ws_hold.py HOST PORT TOKEN")
    host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.create_connection((host, port), timeout=60)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Origin: http://{host}:{port}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            sys.exit("the appliance closed the connection during the handshake")
        head += chunk
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 101 " not in status + " ":
        sys.exit("no WebSocket: " + status)
    sock.sendall(frame(0x1, json.dumps({"type": "hello", "token": token}).encode()))
    print("OPEN", flush=True)
    sock.settimeout(None)
    try:
        while True:
            opcode, payload = read_frame(sock)
            if opcode == 0x9:
                sock.sendall(frame(0xA, payload))
            elif opcode == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                print(f"CLOSED {code}", flush=True)
                return
            elif opcode == 0x1:
                try:
                    print(json.loads(payload).get("type", "?"), flush=True)
                except ValueError:
                    print("?", flush=True)
    except EOFError:
        print("CLOSED eof", flush=True)


if __name__ == "__main__":
    main()
