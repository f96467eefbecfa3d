"""Ports, readiness probes, the load generator and a scratch server, shared
by the benchmark scripts."""
import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port, path="/readyz"):
    """Whether GET `path` on 127.0.0.1:`port` answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            return s.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUNCTION = os.path.join(ROOT, "target", "release", "junction")
LOAD = os.path.join(ROOT, "target", "release", "junction-load")


def load(args, seconds, concurrency=64, server=None):
    """Runs `junction-load ARGS` closed-loop; its summary line and figures.
    The figures include `load_cpu_us` (the load generator's CPU time per
    request) and, given the `Served` it loads, `server_cpu_us` (the server's)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = server.cpu_seconds() if server else 0.0
    out = subprocess.run([LOAD, *args, "--concurrency", str(concurrency), "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True).stdout.strip()
    figures = dict((k, float(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", out))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = max(figures.get("requests", 0), 1)
    load_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    figures["load_cpu_us"] = load_cpu * 1e6 / requests
    if server:
        figures["server_cpu_us"] = (server.cpu_seconds() - server_cpu) * 1e6 / requests
    return out, figures


class Served(str):
    """A running server's base URL, which also knows the server's process."""

    pid = 0

    def cpu_seconds(self):
        """The server's CPU time so far (user + system, all threads)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serving(manifest, wrapper=(), ready_within=10):
    """`junction serve` on `manifest(port)` in a scratch folder, ready; yields
    its base URL (a `Served`). `wrapper` runs it under another program (for
    instance valgrind); the server is stopped with SIGINT, a graceful stop."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = os.path.join(tmp, "junction.toml")
        with open(config, "w") as f:
            f.write(manifest(port))
        command = [*wrapper, JUNCTION, "serve", "--config", config, "--log-level", "warn"]
        proc = subprocess.Popen(command, cwd=tmp)
        try:
            deadline = time.time() + ready_within
            while not ready(port):
                if time.time() > deadline:
                    sys.exit("junction did not become ready")
                time.sleep(0.01)
            served = Served(f"http://127.0.0.1:{port}")
            served.pid = proc.pid
            yield served
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
