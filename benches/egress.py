#!/usr/bin/env python3
"""Proxying benchmark: the same local upstream reached (a) directly, (b) through
Junction's /proxy/up/... with retry, breaker and rate limit configured, and
(c) through nginx proxy_pass with a keep-alive upstream pool, in one run, with
the same load generator.

For each target: peak requests/s (closed loop, CONCURRENCY connections), then
p50/p99 latency at half of Junction's peak rate (`junction-load --rate`,
latency counted from the scheduled send time when a request had to wait).

    apt-get install -y nginx        # Debian 12; nginx-light is only a meta-package
    cargo build --release -p junction -p junction-loadgen
    python3 benches/egress.py [--seconds 10] [--concurrency 64] [--warmup 1]

The script installs nothing and exits with a message when nginx is missing.
Every process it starts (upstream, junction, nginx) is stopped at the end,
also on errors. On a small machine the load generator, the proxy and the
upstream share the same cores, so compare the ratios, not absolute numbers.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from processes import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUNCTION = os.path.join(ROOT, "target", "release", "junction")
LOAD = os.path.join(ROOT, "target", "release", "junction-load")
NGINX_TEMPLATE = os.path.join(ROOT, "benches", "nginx.conf.template")

MANIFEST = """\
[server]
listen = "127.0.0.1:{port}"

[dependencies.up]
base_url = "http://127.0.0.1:{upstream}"
timeout = "5s"
retry = {{ attempts = 3, backoff = "100ms", max_backoff = "1s" }}
breaker = {{ failure_rate = 0.5, min_calls = 20, window = "30s", open_for = "30s" }}
# Far above anything this machine can send, so it never limits.
rate_limit = {{ requests = 10000000, per = "1s" }}
"""


def get_status(port, path):
    """The status line and headers of `GET path`, or None when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    except OSError:
        return None


def get_body(port, path):
    """The body of `GET path`; HTTP/1.0, so it is never chunked."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")


def wait_ok(name, proc, port, path, seconds=10):
    deadline = time.time() + seconds
    while True:
        head = get_status(port, path)
        if head and head.startswith("HTTP/1.1 200"):
            return head
        if proc.poll() is not None:
            sys.exit(f"{name} exited with status {proc.returncode} before answering {path}")
        if time.time() > deadline:
            sys.exit(f"{name} did not answer 200 on 127.0.0.1:{port}{path} within {seconds}s "
                     f"(last answer: {head!r})")
        time.sleep(0.02)


def cpu_seconds(pid):
    """User and system CPU time of a process and its children still running
    (nginx's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state ppid ... utime (11th) stime (12th).
        if int(entry) == pid or int(fields[1]) == pid:
            user += int(fields[11]) / ticks
            system += int(fields[12]) / ticks
    return user, system


def load(url, seconds, concurrency, rate=0.0, watch=()):
    """Run the load generator; its summary, parsed, plus the CPU seconds the
    generator and each watched process used during the run."""
    args = [LOAD, "get", url, "--concurrency", str(concurrency), "--seconds", str(seconds)]
    if rate:
        args += ["--rate", f"{rate:.0f}"]
    before = {name: cpu_seconds(pid) for name, pid in watch}
    children = os.times()
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
    after = os.times()
    stats = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", out)}
    stats["cpu_load"] = (after.children_user + after.children_system
                         - children.children_user - children.children_system)
    for name, pid in watch:
        (user, system), (user0, system0) = cpu_seconds(pid), before[name]
        stats[f"cpu_{name}"] = (user - user0) + (system - system0)
        stats[f"user_{name}"] = user - user0
    return out, stats


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement")
    parser.add_argument("--concurrency", type=int, default=64, help="connections of the load generator")
    parser.add_argument("--warmup", type=float, default=1, help="closed-loop warm-up per target, seconds")
    opts = parser.parse_args()

    for binary in (JUNCTION, LOAD):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is missing: cargo build --release -p junction -p junction-loadgen")
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if nginx is None:
        sys.exit("nginx is not installed; on Debian/Ubuntu: apt-get install -y nginx")

    procs = []
    results = {}
    with tempfile.TemporaryDirectory(prefix="junction-egress-") as tmp:
        # nginx's workers may run as `nobody` when started as root: let them
        # reach the temporary directories under the prefix.
        os.chmod(tmp, 0o755)
        try:
            upstream = subprocess.Popen([LOAD, "upstream", "--port", "0"], stdout=subprocess.PIPE, text=True)
            procs.append(upstream)
            line = upstream.stdout.readline().strip()
            match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
            if not match:
                sys.exit(f"the upstream did not start: {line!r}")
            up_port = int(match.group(1))

            jn_port = free_port()
            config = os.path.join(tmp, "junction.toml")
            with open(config, "w") as f:
                f.write(MANIFEST.format(port=jn_port, upstream=up_port))
            junction = subprocess.Popen([JUNCTION, "serve", "--config", config, "--log-level", "warn"], cwd=tmp)
            procs.append(junction)

            ng_port = free_port()
            prefix = os.path.join(tmp, "nginx")
            os.mkdir(prefix)
            os.chmod(prefix, 0o755)
            conf = os.path.join(prefix, "nginx.conf")
            with open(NGINX_TEMPLATE) as f:
                text = f.read()
            for key, value in (("PREFIX", prefix), ("LISTEN_PORT", ng_port), ("UPSTREAM_PORT", up_port)):
                text = text.replace("{{" + key + "}}", str(value))
            with open(conf, "w") as f:
                f.write(text)
            ng = subprocess.Popen([nginx, "-c", conf, "-p", prefix, "-e", os.path.join(prefix, "error.log")])
            procs.append(ng)

            wait_ok("the upstream", upstream, up_port, "/anything")
            wait_ok("junction", junction, jn_port, "/readyz")
            head = wait_ok("junction", junction, jn_port, "/proxy/up/anything")
            if "junction-attempts" not in head.lower():
                sys.exit(f"the answer through junction lacks junction-attempts:\n{head}")
            wait_ok("nginx", ng, ng_port, "/anything")

            targets = [
                ("direct", f"http://127.0.0.1:{up_port}/anything", None),
                ("junction", f"http://127.0.0.1:{jn_port}/proxy/up/anything", junction.pid),
                ("nginx", f"http://127.0.0.1:{ng_port}/anything", ng.pid),
            ]
            for name, url, proxy in targets:
                if opts.warmup > 0:
                    load(url, opts.warmup, opts.concurrency)
                watch = [("upstream", upstream.pid)] + ([("proxy", proxy)] if proxy else [])
                line, peak = load(url, opts.seconds, opts.concurrency, watch=watch)
                print(f"peak  {name:8} {line}", flush=True)
                results[name] = {"peak": peak}
            half = results["junction"]["peak"]["rps"] / 2
            for name, url, _ in targets:
                line, fixed = load(url, opts.seconds, opts.concurrency, rate=half)
                print(f"@{half:.0f}/s {name:8} {line}", flush=True)
                results[name]["half"] = fixed
            for name, proc in (("the upstream", upstream), ("junction", junction), ("nginx", ng)):
                if proc.poll() is not None:
                    sys.exit(f"{name} exited during the run (status {proc.returncode})")
            # What Junction says it did: every call should be one attempt, a
            # success, and audited (an audit entry per call goes to the store).
            metrics = [ln for ln in get_body(jn_port, "/metrics").splitlines()
                       if re.match(r"junction_(egress_calls_total|egress_retries_total|audit_\w+)\b", ln)]
        finally:
            for proc in reversed(procs):
                stop(proc)
            if procs and procs[0].stdout:
                procs[0].stdout.close()
            # Anything nginx complained about (warn and above) is worth seeing.
            log = os.path.join(tmp, "nginx", "error.log")
            if os.path.exists(log):
                with open(log) as f:
                    complaints = [ln for ln in f if re.search(r"\[(warn|error|crit|alert|emerg)\]", ln)]
                for ln in complaints[-10:]:
                    print(f"nginx error.log: {ln.rstrip()}", file=sys.stderr)

    print()
    print(f"{opts.concurrency} connections, {opts.seconds:g} s per measurement; "
          f"latency at {half:.0f} requests/s (half of Junction's peak)")
    print(f"{'target':10} {'peak rps':>10} {'errors':>7} {'rps@half':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in results.items():
        p, h = r["peak"], r["half"]
        print(f"{name:10} {p['rps']:10.0f} {p['errors']:7.0f} {h['rps']:9.0f} "
              f"{h['p50_ms']:8.3f} {h['p99_ms']:8.3f} {h['errors']:7.0f}")
    print()
    print("CPU per request at peak, microseconds (all processes share the same cores):")
    print(f"{'target':10} {'proxy':>8} {'(user)':>7} {'upstream':>9} {'load gen':>9} {'machine busy':>13}")
    for name, r in results.items():
        p = r["peak"]
        us = {key: p.get(f"cpu_{key}", 0.0) / p["requests"] * 1e6 for key in ("proxy", "upstream", "load")}
        proxy = f"{us['proxy']:8.1f}" if "cpu_proxy" in p else f"{'-':>8}"
        user = f"{p['user_proxy'] / p['requests'] * 1e6:7.1f}" if "user_proxy" in p else f"{'-':>7}"
        busy = (p.get("cpu_proxy", 0.0) + p["cpu_upstream"] + p["cpu_load"]) / opts.seconds
        print(f"{name:10} {proxy} {user} {us['upstream']:9.1f} {us['load']:9.1f} {busy:7.2f} cores")
    direct, junction, ngx = results["direct"], results["junction"], results["nginx"]
    print()
    print(f"junction rps / nginx rps:  {junction['peak']['rps'] / ngx['peak']['rps']:.2f}")
    print(f"junction rps / direct rps: {junction['peak']['rps'] / direct['peak']['rps']:.2f}")
    print(f"junction added p99:        {junction['half']['p99_ms'] - direct['half']['p99_ms']:.3f} ms "
          f"(nginx: {ngx['half']['p99_ms'] - direct['half']['p99_ms']:.3f} ms)")
    print()
    print("junction /metrics after the run:")
    for ln in metrics:
        print(f"  {ln}")
    errors = sum(r[k]["errors"] for r in results.values() for k in ("peak", "half"))
    if errors:
        print(f"warning: {errors:.0f} requests failed (non-2xx or transport errors); see the lines above")


if __name__ == "__main__":
    main()
