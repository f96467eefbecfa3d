#!/usr/bin/env python3
"""User-space instructions Junction executes per proxied call, counted by
valgrind's callgrind under load: a figure for comparing commits that does
not move with the load of the shared machine, as CPU times do.

Junction runs under callgrind with the manifest of benches/egress.py (retry,
breaker and rate limit configured, audit log on) in front of the
`junction-load upstream`; the load generator makes closed-loop GETs on 64
connections for SECONDS; Junction is then stopped gracefully (its audit
entries written) and callgrind's total is divided by the calls answered.
Start-up is included (about 1% of the total at the default length).

    cargo build --release -p junction -p junction-loadgen
    python3 benches/instructions.py [--seconds 10]

Kernel time is not counted (about half of Junction's CPU time per call, see
docs/performance.md); callgrind runs Junction some 50x slower, so audit
batches and connection reuse are those of a loaded server, not of an idle one.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from egress import MANIFEST
from processes import JUNCTION, LOAD, load, serving


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of the load")
    opts = parser.parse_args()
    for binary in (JUNCTION, LOAD):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is missing: cargo build --release -p junction -p junction-loadgen")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is not installed; on Debian/Ubuntu: apt-get install -y valgrind")

    with tempfile.TemporaryDirectory(prefix="junction-instructions-") as tmp:
        upstream = subprocess.Popen([LOAD, "upstream", "--port", "0"], stdout=subprocess.PIPE, text=True)
        try:
            line = upstream.stdout.readline().strip()
            match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
            if not match:
                sys.exit(f"the upstream did not start: {line!r}")
            manifest = lambda port: MANIFEST.format(port=port, upstream=match.group(1))  # noqa: E731
            out = os.path.join(tmp, "callgrind.out")
            wrapper = [valgrind, "-q", "--tool=callgrind", f"--callgrind-out-file={out}"]
            with serving(manifest, wrapper=wrapper, ready_within=120) as base:
                summary, figures = load(["get", f"{base}/proxy/up/anything"], opts.seconds)
        finally:
            upstream.terminate()
            upstream.wait()
            upstream.stdout.close()
        total = 0
        for path in glob.glob(out + "*"):
            with open(path) as f:
                total += sum(int(m.group(1)) for m in re.finditer(r"^summary: (\d+)$", f.read(), re.M))
    requests = figures.get("requests", 0)
    if not requests or figures.get("errors", 0):
        sys.exit(f"the load did not succeed: {summary}")
    print(summary)
    print(f"junction: {total:,} instructions in user space for {requests:,.0f} proxied calls: "
          f"{total / requests:,.0f} per call")


if __name__ == "__main__":
    main()
