"""A fleet against one plan's rate limit: PROCESSES worker processes (Python, Node and C in turn),
WORKERS concurrent chats each, for SECONDS, against an emulator that allows LIMIT requests a
second per key (429 with `Retry-After: 1` past it). Run once per mode:

- `off`: `rate_limit=0`, every request on its own (the behaviour before traffic control);
- `defaults`: the shared 429 gate and the adaptive pacing;
- `redis`: `rate_limit` at the plan's rate (bursts of 1) shared through a real `redis-server`.

Prints, per mode: goodput (accepted a second, as a fraction of the limit), refused requests per
accepted one, calls failed after their retries, and the p99 of a call. `--check` fails (exit 1)
when a mode with traffic control lost a call, was refused as often as without it, or was refused
more than its limit (`--max-refused-defaults` 0.25, `--max-refused-redis` 0.02: issue #20's
targets for a 20 s run; a run of a few seconds is dominated by its first burst).
Used by `make bench` (bench/run.py, 4 × 16 for 20 s) and `make test` (tests/fleet/run.sh, short).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any, Dict, List, Optional

KEY = "ml_test_fleet_key_0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_emulator(binary: str, limit: int) -> "tuple[subprocess.Popen[str], str]":
    process = subprocess.Popen([binary, "--port", "0", "--rate-limit", str(limit)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"fleet: the emulator did not start: {line!r}")
    return process, line.split()[-1]


def start_redis() -> "tuple[subprocess.Popen[bytes], str]":
    if shutil.which("redis-server") is None:
        raise SystemExit("fleet: redis-server is needed for the redis mode (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("fleet: redis-server did not start")
            time.sleep(0.02)
    return process, f"redis://127.0.0.1:{port}/0"


def requests_seen(base_url: str) -> int:
    root = base_url[: -len("/api")]
    with urllib.request.urlopen(f"{root}/_emulator/stats?id=") as response:
        stats: Dict[str, Any] = json.loads(response.read())
        return int(stats["requests"])


def worker_commands(args: argparse.Namespace) -> List[List[str]]:
    kinds = [k for k in ["python", "node", "c"] if getattr(args, k)]
    commands = []
    for i in range(args.processes):
        kind = kinds[i % len(kinds)]
        if kind == "python":
            commands.append([args.python, os.path.join(os.path.dirname(__file__), "fleet_worker.py")])
        elif kind == "node":
            commands.append(["node", "fleet_worker.mjs"])  # run in args.node, where mixerlead resolves
        else:
            commands.append([args.c])
    return commands


def run_mode(args: argparse.Namespace, mode: str) -> Dict[str, Any]:
    emulator, base_url = start_emulator(args.emulator, args.limit)
    redis: Optional[subprocess.Popen[bytes]] = None
    extra: List[str] = []
    try:
        if mode == "redis":
            redis, redis_url = start_redis()
            extra = [redis_url, str(args.limit * 60), "1"]
        common = [base_url, KEY, str(args.seconds), str(args.workers), mode, *extra]
        started = time.monotonic()
        workers = [
            subprocess.Popen(
                command + common,
                stdout=subprocess.PIPE,
                text=True,
                cwd=args.node if command[0] == "node" else None,
            )
            for command in worker_commands(args)
        ]
        results = []
        for worker, command in zip(workers, worker_commands(args)):
            out, _ = worker.communicate(timeout=args.seconds + 120)
            if worker.returncode != 0:
                raise SystemExit(f"fleet: {command[0]} worker failed ({worker.returncode}): {out[-500:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        elapsed = time.monotonic() - started
        accepted = sum(r["ok"] for r in results)
        failed = sum(r["failed"] for r in results)
        refused = requests_seen(base_url) - accepted
        latencies = sorted(x for r in results for x in r["latencies"])
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
        return {
            "mode": mode,
            "accepted": accepted,
            "failed": failed,
            "refused_per_accepted": refused / accepted if accepted else float("inf"),
            # Calls start within the run's SECONDS (those under way at its end still count).
            "goodput": accepted / (args.limit * args.seconds),
            "elapsed_s": elapsed,
            "p99_s": p99,
            "errors": {k: sum(r["errors"].get(k, 0) for r in results) for r in results for k in r["errors"]},
        }
    finally:
        emulator.kill()
        emulator.wait()
        if redis is not None:
            redis.kill()
            redis.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--python", help="a Python with mixerlead installed")
    parser.add_argument("--node", help="a folder whose node_modules has mixerlead")
    parser.add_argument("--c", help="the built fleet_worker (C)")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--limit", type=int, default=50, help="requests a second per key")
    parser.add_argument("--modes", default="off,defaults,redis")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--max-refused-defaults", type=float, default=0.25,
                        help="--check: most refused per accepted with the defaults (issue #20's target)")
    parser.add_argument("--max-refused-redis", type=float, default=0.02,
                        help="--check: most refused per accepted with rate_limit through Redis")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.node:
        shutil.copy(os.path.join(os.path.dirname(__file__), "fleet_worker.mjs"), args.node)
    rows = [run_mode(args, mode) for mode in args.modes.split(",")]
    kinds = ", ".join(c[0].rsplit("/", 1)[-1] for c in worker_commands(args))
    print(f"fleet: {args.processes} processes ({kinds}) x {args.workers} workers, {args.seconds:g} s, "
          f"limit {args.limit}/s per key")
    print(f"{'mode':<10} {'goodput':>8} {'refused/acc':>12} {'failed':>7} {'accepted':>9} {'p99 s':>7}")
    for r in rows:
        print(f"{r['mode']:<10} {r['goodput']:>8.2f} {r['refused_per_accepted']:>12.3f} {r['failed']:>7} "
              f"{r['accepted']:>9} {r['p99_s']:>7.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if not args.check:
        return 0
    problems = []
    off_refused = next((r["refused_per_accepted"] for r in rows if r["mode"] == "off"), float("inf"))
    for r in rows:
        if r["mode"] != "off" and r["failed"]:
            problems.append(f"{r['mode']}: {r['failed']} calls failed ({r['errors']})")
        limit = {"defaults": args.max_refused_defaults, "redis": args.max_refused_redis}.get(r["mode"])
        if limit is not None and r["refused_per_accepted"] > limit:
            problems.append(f"{r['mode']}: {r['refused_per_accepted']:.3f} refused per accepted (over {limit})")
        if r["mode"] != "off" and r["refused_per_accepted"] >= off_refused:
            problems.append(f"{r['mode']}: refused as often as without traffic control")
    for p in problems:
        print("fleet: " + p)
    print(f"fleet: {len(rows) - len(problems)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
