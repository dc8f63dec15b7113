"""`make bench`: every surface of mixerlead and its peers on the same emulator, in one run.

Prints a table of medians and the ratios of issues #6 and #21 against their targets. `--smoke` runs every
implementation once on tiny sizes (part of `make test`, so the benchmark cannot rot) and fails if
any of them breaks or loses a piece. Paths come from the environment (see the Makefile's `bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = os.environ


@dataclass
class Sizes:
    pieces: int
    models: int
    first: int
    streams: int
    each: int
    runs: int
    imports: int
    upload_mib: int
    # The service case: wrk's connections and seconds per service.
    connections: int
    seconds: int


FULL = Sizes(pieces=1_000_000, models=2000, first=200, streams=1000, each=1000, runs=5, imports=5, upload_mib=200,
             connections=64, seconds=10)
SMOKE = Sizes(pieces=2000, models=20, first=5, streams=10, each=100, runs=1, imports=1, upload_mib=8,
              connections=2, seconds=1)


@dataclass
class Result:
    seconds: float
    rss_mb: float
    data: Dict[str, float] = field(default_factory=dict)


def run_with_rss(command: List[str], cwd: Optional[str] = None) -> Result:
    """Runs a command, reading its own peak RSS from wait4."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, text=True)
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {err.strip()[-500:]}")
    data = json.loads(out.strip().splitlines()[-1])
    return Result(seconds=float(data["seconds"]), rss_mb=usage.ru_maxrss / 1024, data=data)


def run_quietly(command: List[str]) -> None:
    """Runs a command for its side effects (a warm-up), ignoring its output and outcome."""
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


class Emulator:
    def __init__(self, binary: str) -> None:
        # Uploads up to 1 GiB are taken (read and dropped), for the upload case.
        self.process = subprocess.Popen([binary, "--port", "0", "--max-upload-bytes", str(1 << 30)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base = self.process.stdout.readline().split()[-1]
        self.root = self.base[: -len("/api")]

    def url(self, script: str) -> str:
        return f"{self.root}/s/{script}/api"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def implementations(sizes: Sizes) -> Dict[str, Dict[str, List[str]]]:
    """case -> implementation -> command prefix (URL and N are appended)."""
    py = [ENV["BENCH_PYTHON"], os.path.join(HERE, "py_bench.py")]
    node = ["node", os.path.join(ENV["BENCH_NODE_DIR"], "node_bench.mjs")]
    rust = [ENV["BENCH_RUST"]]
    c = [ENV["BENCH_C"]]
    curl = ["curl"]
    return {
        "sse": {
            "python mixerlead sync": py + ["mixerlead-sync", "sse"],
            "python mixerlead async": py + ["mixerlead-async", "sse"],
            "python httpx+httpx-sse+json": py + ["httpx", "sse"],
            "python aiohttp+json": py + ["aiohttp", "sse"],
            "node mixerlead": node + ["mixerlead", "sse"],
            "node fetch+eventsource-parser": node + ["fetch-eventsource-parser", "sse"],
            "c mixerlead pull": c + ["pull", "sse"],
            "c mixerlead callbacks": c + ["callbacks", "sse"],
            "rust mixerlead (Stream)": rust + ["mixerlead", "sse"],
            "rust mixerlead (batches)": rust + ["mixerlead-batches", "sse"],
            "rust ceiling (reqwest+lines)": rust + ["ceiling", "sse"],
            "curl -sN": curl,
        },
        "text": {
            "python mixerlead sync": py + ["mixerlead-sync", "text"],
            "python httpx iter_text": py + ["httpx", "text"],
            "node mixerlead": node + ["mixerlead", "text"],
            "node fetch+TextDecoder": node + ["fetch", "text"],
            "c mixerlead pull": c + ["pull", "text"],
            "c mixerlead callbacks": c + ["callbacks", "text"],
            "rust mixerlead (Stream)": rust + ["mixerlead", "text"],
            "rust mixerlead (batches)": rust + ["mixerlead-batches", "text"],
            "rust ceiling (reqwest+lines)": rust + ["ceiling", "text"],
            "rust ceiling keeping the text": rust + ["ceiling-keep", "text"],
            "curl -sN": curl,
        },
        "models": {
            "python mixerlead sync": py + ["mixerlead-sync", "models"],
            "python mixerlead async": py + ["mixerlead-async", "models"],
            "python httpx": py + ["httpx", "models"],
            "python aiohttp": py + ["aiohttp", "models"],
            "node mixerlead": node + ["mixerlead", "models"],
            "node fetch": node + ["fetch", "models"],
            "rust mixerlead": rust + ["mixerlead", "models"],
            "rust ceiling (reqwest+lines)": rust + ["ceiling", "models"],
        },
        "first": {
            "python mixerlead sync": py + ["mixerlead-sync", "first"],
            "python mixerlead async": py + ["mixerlead-async", "first"],
            "python httpx+httpx-sse": py + ["httpx", "first"],
            "python aiohttp": py + ["aiohttp", "first"],
            "node mixerlead": node + ["mixerlead", "first"],
            "node fetch": node + ["fetch", "first"],
            "rust mixerlead": rust + ["mixerlead", "first"],
            "rust ceiling (reqwest+lines)": rust + ["ceiling", "first"],
        },
        "concurrent": {
            "python mixerlead async": py + ["mixerlead-async", "concurrent"],
            "node mixerlead": node + ["mixerlead", "concurrent"],
            "node fetch+eventsource-parser": node + ["fetch-eventsource-parser", "concurrent"],
            "rust mixerlead": rust + ["mixerlead", "concurrent"],
        },
        "upload": {
            "rust mixerlead (file streamed)": rust + ["mixerlead-upload", "upload"],
        },
    }


def command_for(case: str, prefix: List[str], emu: Emulator, sizes: Sizes) -> Tuple[List[str], Optional[int]]:
    """The full command and the pieces it must deliver (None when not counted)."""
    if case in ("sse", "text"):
        url = emu.url(f"format={case};pieces={sizes.pieces}")
        if prefix == ["curl"]:
            return [sys.executable, "-c", CURL_TIMER, url], None
        # Raw text has no piece boundaries of its own: only SSE pieces are counted.
        return prefix + [url, "0"], sizes.pieces if case == "sse" else None
    if case == "models":
        return prefix + [emu.base, str(sizes.models)], None
    if case == "first":
        return prefix + [emu.url("pieces=50"), str(sizes.first)], None
    if case == "upload":
        return prefix + [emu.base, str(sizes.upload_mib)], None
    url = emu.url(f"pieces={sizes.each}")
    return prefix + [url, str(sizes.streams), str(sizes.each)], sizes.streams * sizes.each


CURL_TIMER = (
    "import json, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run(['curl', '-sN', '-X', 'POST', '-H', 'Authorization: Bearer ml_test_bench_key', "
    "'-H', 'Content-Type: application/json', '-d', '{\"message\":\"bench\"}', sys.argv[1] + '/chat', "
    "'-o', '/dev/null'], check=True); print(json.dumps({'seconds': time.perf_counter() - t}))"
)


# --- the service case ---------------------------------------------------------------------------

# The reply each service relays per request: 1 000 SSE pieces from the emulator.
SERVICE_UPSTREAM = "format=sse;pieces=1000"


def services() -> Dict[str, List[str]]:
    """Service name -> the command serving it; `{port}` and `{upstream}` are filled in."""
    node = ["node", os.path.join(ENV["BENCH_NODE_DIR"], "node_service.mjs")]
    uvicorn = [ENV["BENCH_PYTHON"], "-m", "uvicorn", "py_service:app", "--app-dir", HERE, "--host", "127.0.0.1",
               "--port", "{port}", "--log-level", "warning", "--no-access-log"]
    return {
        "node mixerlead for-await write": node + ["mixerlead-pieces", "{port}", "{upstream}"],
        "node mixerlead web-stream pipe": node + ["mixerlead-web-stream", "{port}", "{upstream}"],
        "node mixerlead chunks()": node + ["mixerlead-chunks", "{port}", "{upstream}"],
        "node fetch+eventsource-parser": node + ["fetch-eventsource-parser", "{port}", "{upstream}"],
        "python mixerlead async for": ["env:mixerlead-pieces"] + uvicorn,
        "python mixerlead chunks()": ["env:mixerlead-chunks"] + uvicorn,
        "python httpx+httpx-sse": ["env:httpx"] + uvicorn,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(process: subprocess.Popen, port: int, seconds: float = 30) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited ({process.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not listen on port {port} within {seconds:.0f} s")
            time.sleep(0.05)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), read before it is stopped."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def expected_reply(emu: Emulator) -> bytes:
    """The reply's text, as the emulator sends it as text/plain: what every service must relay."""
    request = urllib.request.Request(
        emu.url(SERVICE_UPSTREAM.replace("format=sse", "format=text")) + "/chat", data=b'{"message":"bench"}',
        headers={"Authorization": "Bearer ml_test_bench_key", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return bytes(response.read())


def run_service(name: str, template: List[str], emu: Emulator, sizes: Sizes, expected: bytes) -> Dict[str, float]:
    """Serves one service, asks it once (its body checked), loads it with wrk, reads its VmHWM."""
    port = free_port()
    env = dict(ENV)
    if template[0].startswith("env:"):
        env.update(BENCH_SERVICE=template[0][4:], BENCH_UPSTREAM=emu.url(SERVICE_UPSTREAM))
        template = template[1:]
    command = [part.format(port=port, upstream=emu.url(SERVICE_UPSTREAM)) for part in template]
    # The service's stderr to a file: a pipe nobody reads while wrk runs could fill and block it.
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(command, env=env, cwd=ENV["BENCH_NODE_DIR"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_listening(process, port)
        url = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url, timeout=60) as response:  # untimed: a first request, checked
            body = response.read()
        if body != expected:
            raise RuntimeError(f"relayed {len(body)} bytes, not the reply's {len(expected)}")
        wrk = subprocess.run(
            ["wrk", "-t1", f"-c{sizes.connections}", f"-d{sizes.seconds}s", "--timeout", "30s",
             "-s", os.path.join(HERE, "service_check.lua"), url],
            env=dict(ENV, BENCH_EXPECTED_BYTES=str(len(expected))), capture_output=True, text=True)
        if wrk.returncode != 0:
            raise RuntimeError(f"wrk failed ({wrk.returncode}): {wrk.stderr.strip()[-500:]}")
        data: Dict[str, float] = json.loads(wrk.stdout.strip().splitlines()[-1])
        data["rss_mb"] = peak_rss_mb(process.pid)
        if process.poll() is not None:
            raise RuntimeError(f"the service exited ({process.returncode}) under load")
        return data
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        err = log.read().strip()
        log.close()
        if err:
            print(f"  ({name} wrote on stderr: {err[-300:]})")


def service_case(emu: Emulator, sizes: Sizes) -> Tuple[Dict[str, Dict[str, float]], int]:
    """Every service under wrk, one after the other; prints a line each. Returns the results and
    the number of failures (a service that broke, a body not whole, an error, no request served)."""
    expected = expected_reply(emu)
    print(f"service: each request relays a reply of 1000 SSE pieces ({len(expected):,} bytes) from the emulator; "
          f"wrk, {sizes.connections} connections, {sizes.seconds} s per service")
    print(f"{'case':<11} {'implementation':<32} {'requests/s':>10} {'p99':>10} {'peak RSS':>9}  bodies")
    results: Dict[str, Dict[str, float]] = {}
    failures = 0
    for name, template in services().items():
        try:
            r = run_service(name, template, emu, sizes, expected)
        except (RuntimeError, ValueError, KeyError, OSError) as e:
            failures += 1
            print(f"{'service':<11} {name:<32} ERROR {e}")
            continue
        errors = int(r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["status_errors"] + r["timeouts"])
        r["rate"] = r["good"] / r["seconds"] if r["seconds"] else 0.0
        whole = r["bad"] == 0 and errors == 0 and r["good"] > 0
        if not whole:
            failures += 1
        results[name] = r
        print(f"{'service':<11} {name:<32} {r['rate']:>10,.0f} {r['p99_ms']:>8.1f}ms {r['rss_mb']:>7.1f}MB  "
              f"{int(r['good'])} whole, {int(r['bad'])} not, {errors} errors{'' if whole else '  FAILED'}")
    return results, failures


def import_times(sizes: Sizes) -> Dict[str, float]:
    """Median seconds to import/require each module, in a fresh process each time."""
    out: Dict[str, float] = {}
    py = ENV["BENCH_PYTHON"]
    for module in ["mixerlead", "openai", "httpx"]:
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        samples = []
        for _ in range(sizes.imports):
            done = subprocess.run([py, "-c", code], capture_output=True, text=True)
            if done.returncode != 0:
                break
            samples.append(float(done.stdout))
        if samples:
            out[f"python import {module}"] = statistics.median(samples)
    for module in ["mixerlead", "openai"]:
        code = f"const t = performance.now(); require('{module}'); console.log((performance.now() - t) / 1000)"
        samples = []
        for _ in range(sizes.imports):
            done = subprocess.run(["node", "-e", code], capture_output=True, text=True, cwd=ENV["BENCH_NODE_DIR"])
            if done.returncode != 0:
                break
            samples.append(float(done.stdout))
        if samples:
            out[f"node require {module}"] = statistics.median(samples)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run each; fail on any error")
    parser.add_argument("--only", help="run only this case (sse, text, models, first, concurrent, upload, service, "
                        "fleet, otel, imports)")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    emu = Emulator(ENV["BENCH_EMULATOR"])
    medians: Dict[Tuple[str, str], Result] = {}
    failures = 0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"python {platform.python_version()}; node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}")
    print(f"sizes: {sizes}")
    print(f"{'case':<11} {'implementation':<32} {'median s':>10} {'rate':>16} {'peak RSS':>9}")
    try:
        for case, impls in implementations(sizes).items():
            if args.only and args.only != case:
                continue
            commands = {name: command_for(case, prefix, emu, sizes) for name, prefix in impls.items()}
            # Round-robin: every implementation's k-th run comes in the same stretch of time, so
            # a noisy moment of this shared machine does not land on one of them only. A first
            # untimed request lets the emulator render the reply once.
            if not args.smoke:
                run_quietly(next(iter(commands.values()))[0])
            runs: Dict[str, List[Result]] = {name: [] for name in commands}
            errors: Dict[str, str] = {}
            for _ in range(sizes.runs):
                for name, (command, _expected) in commands.items():
                    if name in errors:
                        continue
                    try:
                        runs[name].append(run_with_rss(command))
                    except (RuntimeError, ValueError, KeyError) as e:
                        errors[name] = str(e)
            for name, (command, expected) in commands.items():
                if name in errors:
                    failures += 1
                    print(f"{case:<11} {name:<32} ERROR {errors[name]}")
                    continue
                results = runs[name]
                result = sorted(results, key=lambda r: r.seconds)[len(results) // 2]
                result.rss_mb = max(r.rss_mb for r in results)
                counts = [int(r.data["pieces"]) for r in results if r.data.get("pieces") is not None]
                if expected is not None and any(got != expected for got in counts):
                    failures += 1
                    print(f"{case:<11} {name:<32} LOST PIECES: {counts} of {expected} each run")
                medians[(case, name)] = result
                print(f"{case:<11} {name:<32} {result.seconds:>10.4f} {rate(case, result, sizes):>16} "
                      f"{result.rss_mb:>7.1f}MB")
        served: Dict[str, Dict[str, float]] = {}
        if not args.only or args.only == "service":
            served, failed = service_case(emu, sizes)
            failures += failed
        fleet_ran = 0
        if not args.only or args.only == "fleet":
            # The fleet against one plan's limit: its own emulators, its own table (bench/fleet.py).
            shape = ["--processes", "2", "--workers", "2", "--seconds", "1.5"] if args.smoke else []
            fleet = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "fleet.py"),
                                    "--emulator", ENV["BENCH_EMULATOR"], "--python", ENV["BENCH_PYTHON"],
                                    "--node", ENV["BENCH_NODE_DIR"], "--c", ENV["BENCH_FLEET_C"], *shape])
            fleet_ran = 1
            failures += fleet.returncode != 0
        otel_ran = 0
        if not args.only or args.only == "otel":
            # What OpenTelemetry costs a call: the no-op providers, then the real SDK with
            # in-memory exporters (bench/otel_cost.py, .cjs), against the models list.
            here = os.path.dirname(os.path.abspath(__file__))
            quick = ["--quick"] if args.smoke else []
            for command, cwd in [([ENV["BENCH_PYTHON"], os.path.join(here, "otel_cost.py"), emu.base, *quick], None),
                                 (["node", "otel_cost.cjs", emu.base, *quick], ENV["BENCH_NODE_DIR"])]:
                cost = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
                for line in (cost.stdout + cost.stderr).strip().splitlines():
                    print(f"{'otel':<11} {command[1].rsplit('/', 1)[-1]:<16} {line}")
                otel_ran += 1
                failures += cost.returncode != 0
        imports = import_times(sizes) if not args.only or args.only == "imports" else {}
        for name, seconds in imports.items():
            print(f"{'imports':<11} {name:<32} {seconds:>10.4f}")
    finally:
        emu.stop()
    print()
    report_ratios(medians, imports, served)
    if args.smoke:
        print(f"bench-smoke: {len(medians) + len(served) + len(imports) + fleet_ran + otel_ran - failures} passed, {failures} failed")
    return 1 if failures else 0


def rate(case: str, r: Result, sizes: Sizes) -> str:
    if case == "text":
        # Raw text arrives in network-sized pieces: the rate is of the same 1M pieces of text as (a).
        return f"{sizes.pieces / r.seconds:,.0f} pieces/s"
    if case in ("sse", "concurrent"):
        count = r.data.get("pieces") or (sizes.pieces if case == "sse" else sizes.streams * sizes.each)
        return f"{count / r.seconds:,.0f} pieces/s"
    if case == "models":
        return f"{sizes.models / r.seconds:,.0f} calls/s"
    if case == "upload":
        return f"{sizes.upload_mib / r.seconds:,.0f} MiB/s"
    return f"{r.seconds * 1000:.2f} ms"


def report_ratios(m: Dict[Tuple[str, str], Result], imports: Dict[str, float],
                  served: Optional[Dict[str, Dict[str, float]]] = None) -> None:
    def t(case: str, name: str) -> Optional[float]:
        r = m.get((case, name))
        return r.seconds if r else None

    def line(label: str, ours: Optional[float], theirs: Optional[float], target: float, higher_is_better: bool) -> None:
        if ours is None and theirs is None:
            return  # a case not run (--only)
        if ours is None or theirs is None or ours <= 0:
            print(f"  {label:<70} n/a")
            return
        ratio = theirs / ours
        ok = ratio >= target if higher_is_better else ratio >= target
        print(f"  {label:<70} {ratio:>7.2f}x  (target >= {target:.3g}x) {'PASS' if ok else 'MISS'}")

    print("ratios (peer time / our time, same run):")
    for impl in ["python mixerlead sync", "python mixerlead async"]:
        line(f"(a) {impl} vs httpx+httpx-sse+json", t("sse", impl), t("sse", "python httpx+httpx-sse+json"), 10, True)
    line("(a) node mixerlead vs fetch+eventsource-parser", t("sse", "node mixerlead"),
         t("sse", "node fetch+eventsource-parser"), 3, True)
    line("(b) node mixerlead vs fetch+TextDecoder", t("text", "node mixerlead"), t("text", "node fetch+TextDecoder"), 1, True)
    for case in ["sse", "text"]:
        for impl in ["c mixerlead pull", "c mixerlead callbacks", "rust mixerlead (Stream)", "rust mixerlead (batches)"]:
            line(f"({'a' if case == 'sse' else 'b'}) {impl} vs rust ceiling (within 1.2x: ratio >= 0.83)",
                 t(case, impl), t(case, "rust ceiling (reqwest+lines)"), 1 / 1.2, True)
    for impl in ["c mixerlead callbacks", "rust mixerlead (batches)"]:
        line(f"(b) {impl} vs a ceiling that keeps the text (for reference)", t("text", impl),
             t("text", "rust ceiling keeping the text"), 1 / 1.2, True)
    fastest_py = min(filter(None, [t("models", "python aiohttp"), t("models", "python httpx")]), default=None)
    for impl in ["python mixerlead sync", "python mixerlead async"]:
        line(f"(c) {impl} vs fastest Python peer", t("models", impl), fastest_py, 1.5, True)
    line("(c) node mixerlead vs fetch", t("models", "node mixerlead"), t("models", "node fetch"), 1.5, True)
    fastest_py_first = min(filter(None, [t("first", "python httpx+httpx-sse"), t("first", "python aiohttp")]), default=None)
    for impl in ["python mixerlead sync", "python mixerlead async"]:
        line(f"(d) {impl} time to first piece vs fastest Python peer", t("first", impl), fastest_py_first, 2, True)
    line("(d) node mixerlead time to first piece vs fetch", t("first", "node mixerlead"), t("first", "node fetch"), 2, True)
    for impl in ["python mixerlead async", "node mixerlead", "rust mixerlead"]:
        r = m.get(("concurrent", impl))
        if r:
            ok = r.rss_mb < 150 and r.data.get("pieces") == r.data.get("expected")
            print(f"  (e) {impl:<66} {int(r.data.get('pieces', 0))} pieces, {r.rss_mb:.0f} MB "
                  f"(target: all, < 150 MB) {'PASS' if ok else 'MISS'}")
    r = m.get(("upload", "rust mixerlead (file streamed)"))
    if r:
        grown = r.data.get("rss_growth_mib", 0.0)
        print(f"  (g) upload of a {int(r.data.get('mebibytes', 0))} MiB file: peak RSS grew {grown:.1f} MiB "
              f"(target: <= 32 MiB) {'PASS' if grown <= 32 else 'MISS'}")
    served = served or {}
    for ours_name, peer_name in [("node mixerlead chunks()", "node fetch+eventsource-parser"),
                                 ("python mixerlead chunks()", "python httpx+httpx-sse")]:
        ours_r, peer_r = served.get(ours_name), served.get(peer_name)
        if not ours_r or not peer_r:
            continue
        line(f"(s) {ours_name} vs {peer_name}, requests/s", 1 / ours_r["rate"] if ours_r["rate"] else None,
             1 / peer_r["rate"] if peer_r["rate"] else None, 5, True)
        line(f"(s) {ours_name} vs {peer_name}, p99 (peer's / ours)", ours_r["p99_ms"], peer_r["p99_ms"], 3, True)
    ours_r, peer_r = served.get("node mixerlead chunks()"), served.get("node fetch+eventsource-parser")
    if ours_r and peer_r and peer_r["rss_mb"]:
        ratio = ours_r["rss_mb"] / peer_r["rss_mb"]
        print(f"  {'(s) node mixerlead chunks() peak RSS vs fetch+eventsource-parser':<70} {ratio:>7.2f}x  "
              f"(target <= 1.2x) {'PASS' if ratio <= 1.2 else 'MISS'}")
    ours, theirs = imports.get("python import mixerlead"), imports.get("python import openai")
    line("(f) import mixerlead vs import openai", ours, theirs, 20, True)
    line("(f) require('mixerlead') vs require('openai')", imports.get("node require mixerlead"),
         imports.get("node require openai"), 1, True)


if __name__ == "__main__":
    sys.exit(main())
