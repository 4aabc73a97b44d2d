"""Python's own blocking socket module on the same work as bsd-sync.mjs: a calibration point.

The issue's figures were taken on another harness, where Python reached 0.98 of native on
one-core ping-pong; its ratio here says how that harness compares with this one.

    python3 benchmark/servers/python-echo.py [--mode echo|sink|close] [--port 0] [--backlog 4096]
"""

import argparse
import os
import socket
import sys
import threading

p = argparse.ArgumentParser()
p.add_argument("--mode", default="echo", choices=["echo", "sink", "close"])
p.add_argument("--port", type=int, default=0)
p.add_argument("--backlog", type=int, default=4096)
opts = p.parse_args()

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", opts.port))
srv.listen(opts.backlog)
print(f"PORT {srv.getsockname()[1]}", flush=True)


def leash():
    """The runner's contract: end of stdin stops the server."""
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


threading.Thread(target=leash, daemon=True).start()

buf = bytearray(65536)
view = memoryview(buf)
while True:
    conn, _ = srv.accept()
    try:
        if opts.mode == "echo":
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while n := conn.recv_into(buf):
                conn.sendall(view[:n])
        elif opts.mode == "sink":
            while conn.recv_into(buf):
                pass
    except OSError:
        pass  # a client's RST is not our failure
    finally:
        conn.close()
