#!/usr/bin/env python3
"""Start-up benchmark: time from exec of `junction serve` to the first 200 on
/readyz, and idle resident memory, over N runs of the quickstart manifest.

    cargo build --release && python3 benches/startup.py [runs]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

from processes import free_port, ready

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "junction")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    quickstart = open(os.path.join(ROOT, "examples", "quickstart.toml")).read()
    startup, memory = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            port = free_port()
            config = os.path.join(tmp, "junction.toml")
            with open(config, "w") as f:
                f.write(quickstart.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
            started = time.perf_counter()
            proc = subprocess.Popen([BINARY, "serve", "--config", config], cwd=tmp, stderr=subprocess.DEVNULL)
            deadline = started + 10
            while not ready(port):
                if time.perf_counter() > deadline:
                    proc.kill()
                    sys.exit("junction did not become ready within 10s")
                time.sleep(0.0005)
            startup.append((time.perf_counter() - started) * 1000)
            time.sleep(0.5)  # let it settle to idle
            memory.append(rss_mib(proc.pid))
            proc.terminate()
            proc.wait()
    startup.sort()
    print(f"runs: {runs}")
    print(f"exec -> /readyz 200: median {statistics.median(startup):.1f} ms, "
          f"p90 {startup[int(0.9 * (runs - 1))]:.1f} ms, max {startup[-1]:.1f} ms")
    print(f"idle RSS: median {statistics.median(memory):.1f} MiB, max {max(memory):.1f} MiB")


if __name__ == "__main__":
    main()
