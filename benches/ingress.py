#!/usr/bin/env python3
"""Webhook ingestion benchmark: signed 1 KiB Stripe-style deliveries from 64
concurrent senders, verified and committed (SQLite, fsync'd), against
Junction's own GET /healthz under the same load generator, in one run.
The store's raw in-process append rate comes from the store benchmark.

    cargo build --release -p junction -p junction-loadgen
    python3 benches/ingress.py [seconds]
    BENCH_SECTIONS=append cargo bench -p junction-store --bench store   # raw append rate
"""
import sys

from processes import load, serving

SECRET = "whsec_bench_stripe_secret"


def manifest(port):
    return (f'[server]\nlisten = "127.0.0.1:{port}"\n\n'
            f'[sources.stripe]\nscheme = "stripe"\nsecret = "{SECRET}"\n')


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    with serving(manifest) as base:
        health_line, health = load(["get", f"{base}/healthz"], seconds, server=base)
        hooks_line, hooks = load(["stripe", f"{base}/webhooks/stripe", "--secret", SECRET], seconds, server=base)
    print(f"GET /healthz:            {health_line}")
    print(f"POST /webhooks/stripe:   {hooks_line}")
    print(f"accepted webhooks/s vs /healthz rate: {hooks['rps'] / health['rps']:.2f}x "
          f"(goal >= 0.5x); errors: {int(hooks['errors'])}")
    # Where the machine's CPU goes: both processes share its cores.
    for name, f in (("GET /healthz", health), ("POST /webhooks/stripe", hooks)):
        print(f"CPU per request, {name}: junction {f['server_cpu_us']:.1f} µs, "
              f"load generator {f['load_cpu_us']:.1f} µs")


if __name__ == "__main__":
    main()
