"""A one-shot execnet socket server: serves one pytest-xdist session, then exits.

    python oneshot_server.py 0.0.0.0:8888      # on the machine that lends its hardware

Why not execnet's looping ``socketserver.py``: it keeps the imported modules between sessions, so a
second run can execute stale test code; this one starts fresh for every session (restart it, e.g.
in a shell loop, for the next one). It serves one connection, i.e. one ``--tx`` entry.
"""

import sys

import execnet.script.socketserver as socketserver
from execnet.gateway_base import get_execmodel

if __name__ == "__main__":
    socketserver.execmodel = get_execmodel("thread")
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8888"
    socketserver.startserver(socketserver.bind_and_listen(address, socketserver.execmodel), loop=False)
