#!/usr/bin/env python3
"""Webhook ingestion benchmark: signed 1 KiB Stripe-style deliveries from 64
concurrent senders, verified and committed (SQLite, fsync'd), against
Junction's own GET /healthz under the same load generator, in one run.
The store's raw in-process append rate comes from the store benchmark.

    cargo build --release -p junction -p junction-loadgen
    python3 benches/ingress.py [seconds]
    BENCH_SECTIONS=append cargo bench -p junction-store --bench store   # raw append rate
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from processes import free_port, ready

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUNCTION = os.path.join(ROOT, "target", "release", "junction")
LOAD = os.path.join(ROOT, "target", "release", "junction-load")
SECRET = "whsec_bench_stripe_secret"


def load(args, seconds):
    out = subprocess.run([LOAD, *args, "--concurrency", "64", "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out, dict((k, float(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", out))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = os.path.join(tmp, "junction.toml")
        with open(config, "w") as f:
            f.write(f'[server]\nlisten = "127.0.0.1:{port}"\n\n'
                    f'[sources.stripe]\nscheme = "stripe"\nsecret = "{SECRET}"\n')
        proc = subprocess.Popen([JUNCTION, "serve", "--config", config, "--log-level", "warn"], cwd=tmp)
        try:
            deadline = time.time() + 10
            while not ready(port):
                if time.time() > deadline:
                    sys.exit("junction did not become ready")
                time.sleep(0.01)
            base = f"http://127.0.0.1:{port}"
            health_line, health = load(["get", f"{base}/healthz"], seconds)
            hooks_line, hooks = load(["stripe", f"{base}/webhooks/stripe", "--secret", SECRET], seconds)
        finally:
            proc.terminate()
            proc.wait()
    print(f"GET /healthz:            {health_line}")
    print(f"POST /webhooks/stripe:   {hooks_line}")
    print(f"accepted webhooks/s vs /healthz rate: {hooks['rps'] / health['rps']:.2f}x "
          f"(goal >= 0.5x); errors: {int(hooks['errors'])}")


if __name__ == "__main__":
    main()
