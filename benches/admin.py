#!/usr/bin/env python3
"""Management API cost: an authenticated GET /v1/dependencies (bearer key
checked, per-credential rate limit counted and announced, live state of
every dependency rendered) against an unauthenticated GET /healthz, same
load generator, same server, one run. Goal: /v1/dependencies costs no more
than 1.5x /healthz, i.e. healthz rps / dependencies rps <= 1.5.

    cargo build --release -p junction -p junction-loadgen
    python3 benches/admin.py [seconds] [runs]
"""
import sys

from processes import load, serving

KEY = "bench_admin_key_0123456789abcdef"


def manifest(port):
    deps = "".join(
        f'[dependencies.dep{i}]\nbase_url = "http://127.0.0.1:9"\n'
        f'sla = {{ availability = "99.9%", p99 = "800ms" }}\n\n' for i in range(5))
    # The quota is far above the load so every request is counted, none refused.
    return (f'[server]\nlisten = "127.0.0.1:{port}"\n\n'
            f'[admin]\napi_keys = ["{KEY}"]\nrate_limit = {{ requests = 10000000, per = "1s" }}\n\n{deps}')


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with serving(manifest) as base:
        for run in range(runs):
            health_line, health = load(["get", f"{base}/healthz"], seconds)
            deps_line, deps = load(["get", f"{base}/v1/dependencies", "--bearer", KEY], seconds)
            print(f"run {run + 1}")
            print(f"  GET /healthz:                  {health_line}")
            print(f"  GET /v1/dependencies (bearer): {deps_line}")
            print(f"  cost ratio (healthz rps / dependencies rps): {health['rps'] / deps['rps']:.2f}x "
                  f"(goal <= 1.5x); errors: {int(deps['errors'])}")


if __name__ == "__main__":
    main()
