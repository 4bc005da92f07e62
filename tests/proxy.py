"""A TCP proxy on loopback that can make one connection go silent, as a dead host, a dropped
NAT entry or a failover does: the client's bytes are accepted and never delivered, and no
answer comes, while every other connection through it keeps working."""

from __future__ import annotations

import select
import socket
import threading


class SilentProxy:
    """Forwards 127.0.0.1:<port> to ``target``. :meth:`swallow` arms it: the next chunk a
    client sends that contains ``pattern`` is dropped, and that connection says nothing
    more in either direction (its sockets stay open)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pattern: bytes | None = None
        self.swallowed = 0  # connections made silent
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def swallow(self, pattern: bytes) -> None:
        with self._lock:
            self._pattern = pattern

    def _take(self, chunk: bytes) -> bool:
        with self._lock:
            if self._pattern is not None and self._pattern in chunk:
                self._pattern = None
                self.swallowed += 1
                return True
        return False

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        silent = False
        pair = {client: server, server: client}
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for sock in readable:
                    chunk = sock.recv(65536)
                    if not chunk:
                        if silent:  # the server never hears the client went: as a dead host
                            client.close()
                            return
                        return
                    if silent:
                        continue  # accepted, never delivered, never answered
                    if sock is client and self._take(chunk):
                        silent = True
                        continue
                    pair[sock].sendall(chunk)
        except OSError:
            return
        finally:
            client.close()
            if not silent:
                server.close()  # a silent one stays open until the proxy closes

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for sock in self._sockets:
            sock.close()
