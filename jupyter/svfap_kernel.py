"""The Jupyter kernel of the SVFAP Workbench language.

It starts `svfap kernel` once (the path comes from $SVFAP_BINARY, which `svfap jupyter install`
writes into kernel.json) and relays Jupyter's messages to it as JSON lines: execute (stream,
display_data with image/png or image/svg+xml, error), complete, inspect (`help NAME`), is_complete,
history; an interrupt is forwarded as SIGINT, which stops the running command at its next safe
point while the session (its models and runs) survives; a process that dies is reported as such and
the next cell starts a fresh one. The design follows bash_kernel and gnuplot_kernel: the REPL program
keeps the state, the kernel only relays. The protocol itself is svfap_wire's (pyzmq alone), not
ipykernel's, whose IPython import alone takes longer than the kernel may take to start.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

from svfap_wire import Kernel


def _die_with_parent():
    """In the svfap child before exec: SIGTERM when this kernel process dies (Linux's
    PR_SET_PDEATHSIG), so a killed kernel never leaves a session training on its own."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass  # svfap also ends when its stdin (this kernel's pipe) hangs up

__version__ = "1.1"


class SvfapKernel(Kernel):
    implementation = "svfap"
    implementation_version = __version__
    language = "svfap"
    language_version = "1"
    language_info = {
        "name": "svfap",
        "mimetype": "text/x-svfap",
        "file_extension": ".svfap",
        # JupyterLab takes new CodeMirror modes only from a compiled lab extension; CodeMirror's python
        # mode highlights the tokens the two languages share (# comments, "strings", numbers, if,
        # for, while, in, return, break, continue, true/false). nbconvert uses our Pygments lexer.
        "codemirror_mode": "python",
        "pygments_lexer": "svfap",
    }
    banner = "SVFAP Workbench: self-supervised facial-affect video models (help for the commands)"
    help_links = [{"text": "Language reference", "url": "https://github.com/svfap/workbench/blob/main/docs/LANGUAGE.md"}]

    def __init__(self, connection):
        super().__init__(connection)
        self.proc = None
        self._start()
        threading.Thread(target=self._end_with_parent, daemon=True).start()

    def _end_with_parent(self):
        """When whoever started this kernel (Jupyter, nbconvert) is gone, end svfap and this process:
        nobody can reach the session any more, and a cell left running would burn a core forever."""
        parent = os.getppid()
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                if self._alive():
                    self.proc.kill()
                os._exit(0)

    # The svfap process.

    def _start(self):
        binary = os.environ.get("SVFAP_BINARY", "svfap")
        self.proc = subprocess.Popen(
            [binary, "kernel"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,  # Jupyter's interrupt reaches svfap only through _read, once
            preexec_fn=_die_with_parent,
        )

    def _alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _send(self, request):
        if not self._alive():
            self._start()
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def _read(self):
        """The next event, or None when the process has ended."""
        while True:
            try:
                line = self.proc.stdout.readline()
            except KeyboardInterrupt:
                # Jupyter's interrupt reached us: pass it on and keep reading the cell's events.
                self.proc.send_signal(signal.SIGINT)
                continue
            if not line:
                return None
            try:
                return json.loads(line)
            except ValueError:
                continue

    def _request(self, request):
        self._send(request)
        return self._read() or {"status": "error"}

    # Jupyter's messages.

    def _died(self, silent):
        """The reply of a cell whose svfap process has ended (between cells or during this one)."""
        code = self.proc.wait()
        text = (f"the svfap process ended (exit code {code}) and its session with it; the next cell "
                "starts a new session (or restart the kernel)")
        error = {"ename": "KernelDied", "evalue": text, "traceback": ["KernelDied: " + text]}
        if not silent:
            self.send_response(self.iopub_socket, "error", error)
        self.proc = None
        return {"status": "error", "execution_count": self.execution_count, **error}

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        if self.proc is not None and not self._alive():
            return self._died(silent)  # it died since the last cell: say so before starting anew
        try:
            self._send({"type": "execute", "code": code, "silent": bool(silent)})
        except (BrokenPipeError, OSError):
            return self._died(silent)
        status = "ok"
        while True:
            event = self._read()
            if event is None:
                return self._died(silent)
            kind = event.get("type")
            if kind == "done":
                status = event.get("status", "ok")
                break
            if silent:
                continue
            if kind == "stream":
                self.send_response(self.iopub_socket, "stream", {"name": event.get("name", "stdout"), "text": event["text"]})
            elif kind == "execute_result":
                self.send_response(self.iopub_socket, "execute_result", {
                    "execution_count": self.execution_count, "data": event["data"], "metadata": {}})
            elif kind in ("display_data", "update_display_data"):
                # Progress and live curves carry a display_id: the front end updates them in place.
                content = {"data": event["data"], "metadata": event.get("metadata", {})}
                if "transient" in event:
                    content["transient"] = event["transient"]
                self.send_response(self.iopub_socket, kind, content)
            elif kind == "error":
                self.send_response(self.iopub_socket, "error", {
                    "ename": event["ename"], "evalue": event["evalue"], "traceback": event["traceback"]})
                self._last_error = event
        if status == "error":
            e = getattr(self, "_last_error", {"ename": "Error", "evalue": "", "traceback": []})
            return {"status": "error", "execution_count": self.execution_count, "ename": e["ename"],
                    "evalue": e["evalue"], "traceback": e["traceback"]}
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    def do_complete(self, code, cursor_pos):
        r = self._request({"type": "complete", "code": code, "cursor": cursor_pos})
        return {"status": "ok", "matches": r.get("matches", []), "cursor_start": r.get("cursor_start", cursor_pos),
                "cursor_end": r.get("cursor_end", cursor_pos), "metadata": {}}

    def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        r = self._request({"type": "inspect", "code": code, "cursor": cursor_pos})
        found = bool(r.get("found"))
        return {"status": "ok", "found": found, "data": {"text/plain": r["text"]} if found else {}, "metadata": {}}

    def do_is_complete(self, code):
        r = self._request({"type": "is_complete", "code": code})
        reply = {"status": r.get("status", "unknown")}
        if reply["status"] == "incomplete":
            reply["indent"] = r.get("indent", "")
        return reply

    def do_history(self, hist_access_type, output, raw, session=None, start=None, stop=None, n=None, pattern=None,
                   unique=False):
        r = self._request({"type": "history"})
        items = [(0, i + 1, code) for i, code in enumerate(r.get("history", []))]
        if hist_access_type == "tail" and n:
            items = items[-n:]
        elif hist_access_type == "range":
            items = [x for x in items if (start is None or x[1] >= start) and (stop is None or x[1] < stop)]
        elif hist_access_type == "search" and pattern:
            import fnmatch
            items = [x for x in items if fnmatch.fnmatch(x[2], pattern)]
        if output:
            items = [(session_, line, (code, None)) for session_, line, code in items]
        return {"status": "ok", "history": items}

    def do_shutdown(self, restart):
        if self._alive():
            try:
                self._request({"type": "shutdown"})
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
        self.proc = None
        if restart:
            self._start()
        return {"status": "ok", "restart": restart}


if __name__ == "__main__":
    SvfapKernel.launch()
