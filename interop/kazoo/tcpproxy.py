"""A tiny threaded TCP proxy used to cut a client off from the server without
closing its ZooKeeper session (so that the server has to expire it)."""

import socket
import threading


class TcpProxy:
    """Forward 127.0.0.1:<listen_port> to (host, port).

    ``cut()`` closes every proxied connection and stops accepting (the
    client sees a dead server, the server sees a closed socket but the
    session stays alive until it times out).  ``resume()`` starts
    listening again on the same port.
    """

    def __init__(self, host, port):
        self.target = (host, port)
        self.listen_port = None
        self._lock = threading.Lock()
        self._conns = []
        self._lsock = None
        self._accepting = False
        self._thread = None
        self.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.listen_port

    def start(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.listen_port or 0))
        ls.listen(16)
        ls.settimeout(0.2)
        self.listen_port = ls.getsockname()[1]
        self._lsock = ls
        self._accepting = True
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    resume = start

    def _accept_loop(self):
        ls = self._lsock
        while self._accepting:
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                s = socket.create_connection(self.target, timeout=5)
            except OSError:
                c.close()
                continue
            s.settimeout(None)
            c.settimeout(None)
            with self._lock:
                self._conns.extend([c, s])
            for a, b in ((c, s), (s, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()
        ls.close()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        """Stop accepting and drop all current connections."""
        self._accepting = False
        if self._thread is not None:
            self._thread.join(2)
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.cut()
