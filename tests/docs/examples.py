"""Runs every code example of README.md and docs/*.md against the emulator, so none can rot.

    examples.py [FILE.md ...]

A fenced block's first word is its language; a later word `norun` marks a block that must not
run (an install command, a proxy that is not there), `pytest` a Python block run by pytest, and
`serve` a web service (below). Blocks in other languages (toml, text) are not programs and are
skipped.

- python: the blocks of one file run in order in one interpreter (the venv `make docs` made,
  target/docs-tools/py, with the wheel installed), like a notebook; `pytest` blocks each as a
  test file.
- js: each block alone with node (`.mjs` when it has an `import`, else CommonJS inside an async
  function), the packed npm package installed beside it.
- c / cpp: each block compiled against include/ and target/c/lib (a block without `main` is
  the body of one), then run.
- serve (python or js): a service relaying chat replies, run as its own process on a free loopback
  port (python: the block is a module whose ASGI `app` uvicorn serves; js: a program listening on
  `process.env.PORT`), its MIXERLEAD_BASE_URL the emulator replying with 300 generated pieces
  1 ms apart. A real `POST /chat` with `{"message": "Hi"}` to it must answer 200 with exactly
  that reply's text.
- sh: each block with bash -e, the CLI (target/debug/mixerlead) first on PATH.
- rust: each block an example of a scratch crate depending on core/ (a block without `fn main`
  is the body of an async main with a `client`), built and run.

Every run gets MIXERLEAD_API_KEY and MIXERLEAD_BASE_URL of one emulator started here, and a
working folder with the files the examples name (handbook.pdf, question.txt).
"""

import http.client
import json
import os
import re
import socket
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "target" / "docs-examples"
LANGS = {"python": "python", "py": "python", "js": "js", "javascript": "js", "c": "c",
         "cpp": "cpp", "c++": "cpp", "sh": "sh", "bash": "sh", "shell": "sh", "rust": "rust"}
# The reply a `serve` example relays: the emulator's generated pieces, paced so it comes in chunks.
SERVE_PIECES = 300
SERVE_SCRIPT = f"pieces={SERVE_PIECES};delay_ms=1"
SERVE_EXPECTED = "".join(f"é{i} " if i % 20 == 19 else f"w{i} " for i in range(SERVE_PIECES))
# The packages the `serve` examples import, beside mixerlead (Python's: scripts/docs/build.sh).
NODE_EXTRAS = ["express@5", "@opentelemetry/api@1", "@opentelemetry/sdk-trace-base@2", "@opentelemetry/context-async-hooks@2"]
FENCE = re.compile(r"^(```+)([^\n`]*)\n(.*?)^\1\s*$", re.M | re.S)
TIMEOUT = 120


@dataclass
class Block:
    """One fenced code block: where it is, its language and markers, its code."""

    file: str
    line: int
    lang: str
    markers: list[str]
    code: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for m in FENCE.finditer(text):
        words = m.group(2).split()
        if not words:
            continue
        line = text.count("\n", 0, m.start()) + 1
        found.append(Block(str(path.relative_to(ROOT)), line, words[0].lower(), words[1:], m.group(3)))
    return found


class Runner:
    """Runs blocks; records each block's result."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.passed = 0
        self.failed: list[str] = []
        self.skipped = 0

    def env_for(self, what: str) -> dict[str, str]:
        """The environment of one example: its own API key, so its knowledge sources, agents and
        artifacts (kept by the emulator per key) do not meet another example's."""
        key = "ml_docs_" + re.sub(r"[^A-Za-z0-9]+", "_", what.split(" (")[0])
        return dict(self.env, MIXERLEAD_API_KEY=key)

    def run(self, what: str, cmd: list[str], cwd: Path, input_text: str | None = None) -> bool:
        try:
            p = subprocess.run(cmd, cwd=cwd, env=self.env_for(what), capture_output=True, text=True,
                               timeout=TIMEOUT, input=input_text if input_text is not None else "")
        except subprocess.TimeoutExpired:
            self.fail(what, f"timed out after {TIMEOUT} s")
            return False
        if p.returncode != 0:
            self.fail(what, f"exit {p.returncode}\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
            return False
        return True

    def ok(self, what: str) -> None:
        self.passed += 1
        print(f"ok    {what}")

    def fail(self, what: str, why: str) -> None:
        self.failed.append(what)
        print(f"FAIL  {what}: {why}")

    # python -----------------------------------------------------------------------------------
    def python(self, blocks: list[Block], work: Path) -> None:
        py = str(ROOT / "target" / "docs-tools" / "py" / "bin" / "python")
        plain = [b for b in blocks if "pytest" not in b.markers]
        if plain:
            # One interpreter for a file's blocks; each block compiled under its own location so
            # a traceback names the Markdown line.
            driver = ["import sys, traceback", "ns = {'__name__': '__main__'}"]
            for i, b in enumerate(plain):
                driver.append(
                    f"try:\n    exec(compile({b.code!r}, {b.where!r}, 'exec'), ns)\n"
                    f"    print('\\nblock-ok {i}', flush=True)\n"
                    f"except BaseException:\n    traceback.print_exc()\n    print('\\nblock-failed {i}', flush=True)\n    sys.exit(1)"
                )
            script = work / "examples_driver.py"
            script.write_text("\n".join(driver) + "\n")
            p = subprocess.run([py, str(script)], cwd=work, env=self.env_for(plain[0].file), capture_output=True,
                               text=True, timeout=TIMEOUT * 3)
            done = {int(x) for x in re.findall(r"^block-ok (\d+)$", p.stdout, re.M)}
            for i, b in enumerate(plain):
                if i in done:
                    self.ok(f"{b.where} python")
                elif f"block-failed {i}" in p.stdout or i == len(done):
                    self.fail(f"{b.where} python", f"\n{p.stdout[-2000:]}{p.stderr[-4000:]}")
                else:
                    self.fail(f"{b.where} python", "not reached (an earlier block failed)")
        for b in blocks:
            if "pytest" in b.markers:
                test = work / f"test_example_{b.line}.py"
                test.write_text(b.code)
                if self.run(f"{b.where} pytest", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", test.name], work):
                    self.ok(f"{b.where} pytest")

    # node -------------------------------------------------------------------------------------
    def js(self, b: Block, work: Path) -> None:
        if re.search(r"^\s*import\s", b.code, re.M):
            name, code = f"example_{b.line}.mjs", b.code
        else:
            name = f"example_{b.line}.cjs"
            code = "(async () => {\n" + b.code + "\n})().catch((e) => { console.error(e); process.exit(1); });\n"
        (work / name).write_text(code)
        if self.run(f"{b.where} js", ["node", name], work):
            self.ok(f"{b.where} js")

    # services ---------------------------------------------------------------------------------
    def serve(self, b: Block, work: Path, base_url: str) -> None:
        """Starts the service of a `serve` block on a free loopback port, asks it for a reply
        over HTTP and checks the body it relays."""
        what = f"{b.where} {b.lang} serve"
        port = free_port()
        if LANGS[b.lang] == "python":
            (work / f"service_{b.line}.py").write_text(b.code)
            py = str(ROOT / "target" / "docs-tools" / "py" / "bin" / "python")
            cmd = [py, "-m", "uvicorn", f"service_{b.line}:app", "--host", "127.0.0.1", "--port", str(port),
                   "--log-level", "warning"]
        else:
            module = re.search(r"^\s*import\s", b.code, re.M)
            name = f"service_{b.line}.{'mjs' if module else 'cjs'}"
            (work / name).write_text(b.code)
            cmd = ["node", name]
        upstream = base_url[: -len("/api")] + f"/s/{SERVE_SCRIPT}/api"
        env = dict(self.env_for(what), MIXERLEAD_BASE_URL=upstream, PORT=str(port))
        log = work / f"service_{b.line}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            why = self.ask(proc, port)
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if why:
            self.fail(what, f"{why}\n{log.read_text()[-3000:]}")
        else:
            self.ok(what)

    @staticmethod
    def ask(proc: subprocess.Popen[bytes], port: int) -> str | None:
        """`POST /chat` to the service once it listens; None when it relayed the whole reply."""
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                return f"the service exited ({proc.returncode}) before listening on port {port}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return f"the service did not listen on port {port} within 30 s"
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            conn.request("POST", "/chat", json.dumps({"message": "Hi"}), {"Content-Type": "application/json"})
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
        except OSError as e:
            return f"POST /chat: {e!r}"
        finally:
            conn.close()
        if response.status != 200:
            return f"POST /chat: {response.status} {body[:500]!r}"
        if body != SERVE_EXPECTED:
            return f"POST /chat relayed {len(body)} characters, not the reply's {len(SERVE_EXPECTED)}: {body[:200]!r}…"
        return None

    # c / c++ ----------------------------------------------------------------------------------
    def native(self, b: Block, work: Path) -> None:
        cpp = b.lang == "cpp"
        code = b.code
        if not re.search(r"\bmain\s*\(", code):
            lines = code.splitlines()
            head = [l for l in lines if l.startswith("#")]
            body = [l for l in lines if not l.startswith("#")]
            std = ["#include <iostream>", "#include <string_view>"] if cpp else ["#include <stdio.h>"]
            code = "\n".join(std + head + ["int main(void) {"] + body + ["return 0;", "}"]) + "\n"
        src = work / f"example_{b.line}.{'cpp' if cpp else 'c'}"
        src.write_text(code)
        exe = work / f"example_{b.line}"
        lib = ROOT / "target" / "c" / "lib"
        cc = ["c++", "-std=c++17"] if cpp else ["cc", "-std=c11"]
        build = cc + ["-Wall", "-Werror", "-Wno-unused-variable", "-I", str(ROOT / "include"), str(src),
                      "-o", str(exe), "-L", str(lib), "-lmixerlead", f"-Wl,-rpath,{lib}"]
        if self.run(f"{b.where} {b.lang} (compile)", build, work) and self.run(f"{b.where} {b.lang}", [str(exe)], work):
            self.ok(f"{b.where} {b.lang}")

    # shell ------------------------------------------------------------------------------------
    def sh(self, b: Block, work: Path) -> None:
        script = work / f"example_{b.line}.sh"
        script.write_text("set -euo pipefail\n" + b.code)
        if self.run(f"{b.where} sh", ["bash", script.name], work):
            self.ok(f"{b.where} sh")

    # rust -------------------------------------------------------------------------------------
    def rust(self, blocks: list[Block]) -> None:
        crate = WORK / "rust"
        (crate / "examples").mkdir(parents=True, exist_ok=True)
        for old in (crate / "examples").glob("*.rs"):
            old.unlink()
        (crate / "src").mkdir(exist_ok=True)
        (crate / "src" / "lib.rs").write_text("//! Hosts the guides' Rust examples.\n")
        (crate / "Cargo.toml").write_text(textwrap.dedent(f"""\
            [package]
            name = "mixerlead-doc-examples"
            version = "0.0.0"
            edition = "2021"
            publish = false

            [workspace]

            [dependencies]
            mixerlead = {{ path = "{ROOT / 'core'}" }}
            futures-util = "0.3"
            tracing-subscriber = {{ version = "0.3", default-features = false, features = ["fmt", "std", "registry"] }}
            serde_json = "1"
            tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}
            """))
        # The workspace's lock file, so the examples build with the versions the project uses.
        shutil.copy(ROOT / "Cargo.lock", crate / "Cargo.lock")
        names = {}
        for b in blocks:
            name = f"{Path(b.file).stem.replace('.', '_').lower()}_{b.line}"
            code = b.code
            if not re.search(r"\bfn main\s*\(", code):
                code = ("#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n"
                        "#[allow(unused_variables)]\nlet client = mixerlead::Client::from_env()?;\n"
                        + code + "\nOk(())\n}\n")
            (crate / "examples" / f"{name}.rs").write_text(f"// {b.where}\n" + code)
            names[name] = b
        env = dict(self.env, CARGO_TARGET_DIR=str(ROOT / "target"))
        p = subprocess.run(["cargo", "build", "--offline", "--examples", "--manifest-path", str(crate / "Cargo.toml")],
                           cwd=crate, env=env, capture_output=True, text=True, timeout=1800)
        if p.returncode != 0:
            for name, b in names.items():
                if f"examples/{name}.rs" in p.stderr:
                    self.fail(f"{b.where} rust (compile)", p.stderr[-4000:])
            if not any(f"examples/{n}.rs" in p.stderr for n in names):
                self.fail("rust examples (compile)", p.stderr[-4000:])
            return
        work = WORK / "work"
        for name, b in names.items():
            if self.run(f"{b.where} rust", [str(ROOT / "target" / "debug" / "examples" / name)], work):
                self.ok(f"{b.where} rust")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    emulator = ROOT / "target" / "debug" / "mixerlead-emulator"
    proc = subprocess.Popen([str(emulator), "--port", "0", "--index-delay-ms", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        proc.kill()
        sys.exit(f"examples: the emulator did not start: {line!r}")
    return proc, m.group(1)


def prepare(work: Path) -> None:
    """The working folder: the files examples name, and the npm package (and NODE_EXTRAS) installed."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "handbook.pdf").write_bytes(b"%PDF-1.4\nRefunds are possible within 30 days.\n%%EOF\n")
    (work / "question.txt").write_text("What does the handbook say about refunds?\n")
    # The main package and this platform's addon package, as make test-node packed them.
    tarballs = sorted((ROOT / "target" / "node-pkg").glob("mixerlead-*.tgz"))
    if not tarballs:
        sys.exit("examples: no npm package in target/node-pkg (run make test-node)")
    packed = " ".join([f"{t.name}:{t.stat().st_mtime}" for t in tarballs] + NODE_EXTRAS)
    stamp = work / "node_modules" / ".from"
    if not stamp.exists() or stamp.read_text() != packed:
        # Afresh: npm's resolver can spin without end over an older tree once the package has a
        # peer dependency.
        shutil.rmtree(work / "node_modules", ignore_errors=True)
        (work / "package.json").write_text('{ "name": "doc-examples", "private": true }\n')
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--no-save", *map(str, tarballs), *NODE_EXTRAS],
                       cwd=work, check=True)
        stamp.write_text(packed)


def main() -> int:
    files = [Path(f).resolve() for f in sys.argv[1:]] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    work = WORK / "work"
    prepare(work)
    proc, base_url = start_emulator()
    env = dict(os.environ, MIXERLEAD_API_KEY="ml_docs_examples", MIXERLEAD_BASE_URL=base_url,
               PATH=f"{ROOT / 'target' / 'debug'}:{os.environ['PATH']}", NO_COLOR="1")
    env.pop("MIXERLEAD_PROJECT_ID", None)
    runner = Runner(env)
    started = time.monotonic()
    try:
        rust: list[Block] = []
        for f in files:
            blocks = blocks_of(f)
            python: list[Block] = []
            for b in blocks:
                lang = LANGS.get(b.lang)
                if lang is None:
                    continue
                if "norun" in b.markers:
                    runner.skipped += 1
                    print(f"skip  {b.where} {b.lang} (norun)")
                elif "serve" in b.markers and lang in ("python", "js"):
                    runner.serve(b, work, base_url)
                elif lang == "python":
                    python.append(b)
                elif lang == "js":
                    runner.js(b, work)
                elif lang in ("c", "cpp"):
                    b.lang = lang
                    runner.native(b, work)
                elif lang == "sh":
                    runner.sh(b, work)
                elif lang == "rust":
                    rust.append(b)
            if python:
                runner.python(python, work)
        if rust:
            runner.rust(rust)
    finally:
        proc.kill()
        proc.wait()
    print(f"examples took {time.monotonic() - started:.0f} s")
    print(f"examples: {runner.passed} passed, {len(runner.failed)} failed, {runner.skipped} skipped")
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
