"""A lean Jupyter kernel base: the messaging protocol (v5.3) on pyzmq alone.

ipykernel's `Kernel` base imports IPython, which takes 1.3 s on a 2-core machine before the kernel
can answer; this module speaks the same protocol with the standard library and pyzmq (~30 ms), so
the svfap kernel starts in a fraction of a second. It offers the part of ipykernel's interface the
svfap kernel uses: `do_execute`, `do_complete`, `do_inspect`, `do_is_complete`, `do_history` and
`do_shutdown` are called with ipykernel's arguments and return ipykernel's reply dicts;
`send_response(socket, msg_type, content)` publishes on IOPub; `execution_count` counts like
ipykernel's. Sockets, signatures and the heartbeat follow the messaging documentation
(https://jupyter-client.readthedocs.io/en/stable/messaging.html).
"""

import datetime
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import uuid

import zmq

DELIMITER = b"<IDS|MSG>"
PROTOCOL_VERSION = "5.3"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class Kernel:
    """Subclasses set implementation, language_info, banner, help_links and define do_*."""

    implementation = "kernel"
    implementation_version = "1.0"
    language_info = {}
    banner = ""
    help_links = []

    def __init__(self, connection):
        self.connection = connection
        self.session = str(uuid.uuid4())
        self.execution_count = 0
        self._parent = {}
        key = connection.get("key", "").encode()
        scheme = connection.get("signature_scheme", "hmac-sha256")
        digest = getattr(hashlib, scheme.split("-", 1)[-1], hashlib.sha256)
        self._auth = hmac.HMAC(key, digestmod=digest) if key else None
        self.context = zmq.Context()
        url = "%s://%s" % (connection.get("transport", "tcp"), connection.get("ip", "127.0.0.1"))

        def bind(kind, port_name):
            s = self.context.socket(kind)
            s.linger = 1000
            s.bind("%s:%d" % (url, connection[port_name]) if connection.get("transport", "tcp") == "tcp"
                   else "%s-%d" % (url, connection[port_name]))
            return s

        self.shell_socket = bind(zmq.ROUTER, "shell_port")
        self.control_socket = bind(zmq.ROUTER, "control_port")
        self.stdin_socket = bind(zmq.ROUTER, "stdin_port")
        self.iopub_socket = bind(zmq.PUB, "iopub_port")
        heartbeat = bind(zmq.REP, "hb_port")
        threading.Thread(target=self._echo, args=(heartbeat,), daemon=True).start()
        self._running = True

    # Wire format.

    def _sign(self, frames):
        if self._auth is None:
            return b""
        h = self._auth.copy()
        for f in frames:
            h.update(f)
        return h.hexdigest().encode()

    def _emit(self, socket, msg_type, content, parent=None, idents=None):
        header = {"msg_id": str(uuid.uuid4()), "session": self.session, "username": "svfap",
                  "date": _now(), "msg_type": msg_type, "version": PROTOCOL_VERSION}
        frames = [json.dumps(x, default=str).encode() for x in
                  (header, (parent or {}).get("header", {}), {}, content)]
        if idents is None:
            idents = [("kernel.%s.%s" % (self.session, msg_type)).encode()]
        socket.send_multipart(list(idents) + [DELIMITER, self._sign(frames)] + frames)

    def _take(self, socket):
        """(identities, message) of the next request, or None when it is not signed by our key."""
        frames = socket.recv_multipart()
        if DELIMITER not in frames:
            return None
        i = frames.index(DELIMITER)
        idents, signature, body = frames[:i], frames[i + 1], frames[i + 2:i + 6]
        if len(body) < 4 or (self._auth is not None and not hmac.compare_digest(signature, self._sign(body))):
            return None
        header, parent, metadata, content = (json.loads(f) for f in body)
        return idents, {"header": header, "parent_header": parent, "metadata": metadata, "content": content}

    @staticmethod
    def _echo(socket):
        try:
            zmq.proxy(socket, socket)
        except zmq.ZMQError:
            pass

    # ipykernel's interface.

    def send_response(self, socket, msg_type, content):
        """Publishes a message on IOPub (stream, display_data, execute_result, error) for the
        request being handled."""
        self._emit(socket, msg_type, content, parent=self._parent)

    def _status(self, state, parent):
        self._emit(self.iopub_socket, "status", {"execution_state": state}, parent=parent)

    def kernel_info(self):
        return {"status": "ok", "protocol_version": PROTOCOL_VERSION, "implementation": self.implementation,
                "implementation_version": self.implementation_version, "language_info": self.language_info,
                "banner": self.banner, "help_links": self.help_links}

    def _handle(self, socket, idents, msg):
        msg_type = msg["header"].get("msg_type", "")
        content = msg["content"]
        self._parent = msg
        self._status("busy", msg)
        reply_type = msg_type.replace("_request", "_reply")
        try:
            if msg_type == "kernel_info_request":
                reply = self.kernel_info()
            elif msg_type == "execute_request":
                silent = bool(content.get("silent", False))
                store = bool(content.get("store_history", not silent)) and not silent
                if store:
                    self.execution_count += 1
                if not silent:
                    self._emit(self.iopub_socket, "execute_input",
                               {"code": content.get("code", ""), "execution_count": self.execution_count}, parent=msg)
                reply = self.do_execute(content.get("code", ""), silent, store,
                                        content.get("user_expressions", {}), content.get("allow_stdin", False))
            elif msg_type == "complete_request":
                reply = self.do_complete(content.get("code", ""), content.get("cursor_pos", 0))
            elif msg_type == "inspect_request":
                reply = self.do_inspect(content.get("code", ""), content.get("cursor_pos", 0),
                                        content.get("detail_level", 0))
            elif msg_type == "is_complete_request":
                reply = self.do_is_complete(content.get("code", ""))
            elif msg_type == "history_request":
                reply = self.do_history(content.get("hist_access_type", "tail"), content.get("output", False),
                                        content.get("raw", True), content.get("session"), content.get("start"),
                                        content.get("stop"), content.get("n"), content.get("pattern"),
                                        content.get("unique", False))
            elif msg_type == "comm_info_request":
                reply = {"status": "ok", "comms": {}}
            elif msg_type == "shutdown_request":
                reply = self.do_shutdown(bool(content.get("restart", False)))
                self._running = False
            elif msg_type == "interrupt_request":
                self.do_interrupt()
                reply = {"status": "ok"}
            else:
                reply = None  # not ours (e.g. comm messages of widgets): ignored, as ipykernel does
        except Exception as e:  # a bug of ours: the request still gets an answer
            reply = {"status": "error", "ename": type(e).__name__, "evalue": str(e),
                     "traceback": ["%s: %s" % (type(e).__name__, e)]}
        try:
            if reply is not None:
                self._emit(socket, reply_type, reply, parent=msg, idents=idents)
        finally:
            self._status("idle", msg)

    def do_interrupt(self):
        """An interrupt_request (kernels with interrupt_mode "message"): as SIGINT."""
        os.kill(os.getpid(), signal.SIGINT)

    def start(self):
        """Answers requests until a shutdown_request; control before shell."""
        self._status("starting", None)
        poller = zmq.Poller()
        poller.register(self.control_socket, zmq.POLLIN)
        poller.register(self.shell_socket, zmq.POLLIN)
        while self._running:
            try:
                ready = dict(poller.poll())
                for socket in (self.control_socket, self.shell_socket):
                    if ready.get(socket) and self._running:
                        received = self._take(socket)
                        if received is not None:
                            self._handle(socket, *received)
            except KeyboardInterrupt:
                continue  # an interrupt between cells: nothing runs, nothing to stop
        self.context.destroy(linger=1000)

    @classmethod
    def launch(cls, argv=None):
        """Reads the connection file named by -f and serves it."""
        argv = sys.argv[1:] if argv is None else argv
        if "-f" not in argv or argv.index("-f") + 1 >= len(argv):
            sys.exit("usage: %s -f CONNECTION_FILE" % sys.argv[0])
        with open(argv[argv.index("-f") + 1]) as f:
            connection = json.load(f)
        cls(connection).start()
