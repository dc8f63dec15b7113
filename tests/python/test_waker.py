"""The asyncio bridge's waker (how a finished call reaches its event loop) under the conditions
that used to deadlock it: a loop finalized by the garbage collector while another loop is being
registered, a thread switch during registration, a fork during registration, and a completion
that fails to settle; and the life of the waker thread that serves loops without add_reader.
Each scenario runs in a child process with a timeout, so a deadlock fails the test instead of
hanging the suite, and runs on both ways of reaching a loop: a descriptor it watches with
add_reader ("reader"), and a waker thread for a loop without add_reader ("thread", what
Windows' proactor loop gets)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import KEY, Emulator

PRELUDE = """
import asyncio, gc, os, sys, threading, time
import mixerlead
KEY, URL, PATH = sys.argv[1], sys.argv[2], sys.argv[3]

class NoReaderLoop(asyncio.SelectorEventLoop):
    def add_reader(self, fd, callback, *args):
        raise NotImplementedError

BASE = {"reader": asyncio.SelectorEventLoop, "thread": NoReaderLoop}[PATH]

def waker_threads():
    return [t for t in threading.enumerate() if t.name == "mixerlead-waker"]
"""

PATHS = pytest.mark.parametrize("path", ["reader", "thread"])


def run_child(code: str, emu: Emulator, path: str = "reader", timeout: float = 15.0) -> str:
    try:
        out = subprocess.run(
            [sys.executable, "-c", PRELUDE + code, KEY, emu.url(), path],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"the child hung (deadlock); its stderr: {hung.stderr!r}") from None
    assert out.returncode == 0, out.stderr
    return out.stdout


# A loop left unclosed in a reference cycle is freed only by the cyclic garbage collector, and
# its waker is forgotten from a weakref.finalize callback at that moment. Here the collection
# runs while another loop registers its waker (inside add_reader, which is Python code the
# registration calls): the finalizer must not need a lock the registration holds.
GC_DURING_REGISTRATION = """
class CollectingLoop(BASE):
    def add_reader(self, fd, callback, *args):
        gc.collect()  # what an allocation in add_reader may do at any time
        return super().add_reader(fd, callback, *args)

client = mixerlead.AsyncClient(KEY, base_url=URL)
gc.disable()  # garbage loops wait for the collection inside add_reader
for _ in range(5):
    loop = CollectingLoop()
    loop.run_until_complete(client.models.list())
    loop.cycle = loop  # unreachable only through the cyclic GC once dropped
    del loop
print("ok")
"""


@PATHS
def test_a_loop_finalized_by_the_gc_during_registration(emu: Emulator, path: str) -> None:
    assert run_child(GC_DURING_REGISTRATION, emu, path) == "ok\n"


# The same without a custom loop: many loops dropped unclosed, and a collection on (nearly)
# every allocation, so finalizers run at arbitrary points of the bridge's own Python calls.
GC_STRESS = """
import warnings
warnings.simplefilter("ignore", ResourceWarning)
client = mixerlead.AsyncClient(KEY, base_url=URL)
gc.set_threshold(1, 1, 1)
for _ in range(60):
    loop = BASE()
    loop.run_until_complete(client.models.list())
    loop.cycle = loop
    del loop
    gc.collect(0)
print("ok")
"""


@PATHS
def test_loops_dropped_under_gc_pressure(emu: Emulator, path: str) -> None:
    assert run_child(GC_STRESS, emu, path, timeout=40) == "ok\n"


# Registration calls Python (add_reader), and Python code can release the GIL: another thread
# registering its own loop meanwhile must not block while holding the GIL.
THREAD_SWITCH = """
class SlowLoop(BASE):
    def add_reader(self, fd, callback, *args):
        time.sleep(0.2)  # releases the GIL; the other thread registers meanwhile
        return super().add_reader(fd, callback, *args)

client = mixerlead.AsyncClient(KEY, base_url=URL)
results = []

def one():
    loop = SlowLoop()
    try:
        results.append(len(loop.run_until_complete(client.models.list())) > 0)
    finally:
        loop.close()

threads = [threading.Thread(target=one) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(results)
"""


@PATHS
def test_threads_registering_loops_at_once(emu: Emulator, path: str) -> None:
    assert run_child(THREAD_SWITCH, emu, path) == "[True, True, True, True]\n"


# A fork while another thread is in the middle of registering a loop: the child must not
# inherit a lock that nobody will ever release.
FORK_DURING_REGISTRATION = """
entered = threading.Event()

class SlowLoop(BASE):
    def add_reader(self, fd, callback, *args):
        entered.set()
        time.sleep(0.5)
        return super().add_reader(fd, callback, *args)

client = mixerlead.AsyncClient(KEY, base_url=URL)

def register():
    loop = SlowLoop()
    try:
        loop.run_until_complete(client.models.list())
    finally:
        loop.close()

thread = threading.Thread(target=register)
thread.start()
entered.wait()
pid = os.fork()
if pid == 0:
    try:
        loop = BASE()
        models = loop.run_until_complete(client.models.list())
        os._exit(0 if models else 3)
    except BaseException:
        os._exit(4)
thread.join()
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("child exit", os.waitstatus_to_exitcode(status))
        break
    time.sleep(0.02)
else:
    os.kill(pid, 9)
    print("child hung")
"""


@PATHS
def test_fork_during_registration(emu: Emulator, path: str) -> None:
    assert run_child(FORK_DURING_REGISTRATION, emu, path) == "child exit 0\n"


# Every finished call is settled even when settling one of them fails: here the first
# set_result raises (a Future subclass of a custom loop), with several completions handed over
# in the same wake-up (the loop is blocked while they finish).
SETTLE_FAILURE = """
class Touchy(asyncio.Future):
    armed = True

    def set_result(self, result):
        if Touchy.armed:
            Touchy.armed = False
            raise RuntimeError("boom")
        super().set_result(result)

class TouchyLoop(BASE):
    def create_future(self):
        return Touchy(loop=self)

reported = []

async def main():
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))
    client = mixerlead.AsyncClient(KEY, base_url=URL)
    calls = [asyncio.ensure_future(client.models.list()) for _ in range(6)]
    await asyncio.sleep(0)  # the calls start
    time.sleep(1.0)  # the loop is blocked: all six finish before it looks again
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    failed = [r for r in results if isinstance(r, BaseException)]
    print(len(results) - len(failed), [str(f) for f in failed], len(reported))

loop = TouchyLoop()
loop.run_until_complete(main())
loop.close()
"""


@PATHS
def test_a_failing_settle_does_not_drop_the_other_completions(emu: Emulator, path: str) -> None:
    assert run_child(SETTLE_FAILURE, emu, path) == "5 ['boom'] 0\n"


# The waker thread holds its loop weakly and ends when the loop is collected, or closed with a
# call still in flight; a loop with add_reader never gets one.
THREAD_LIFE = """
client = mixerlead.AsyncClient(KEY, base_url=URL)
loop = BASE()
loop.run_until_complete(client.models.list())
print(len(waker_threads()))
loop.close()
del loop
gc.collect()
for thread in waker_threads():
    thread.join(5)
print(len(waker_threads()))

slow = mixerlead.AsyncClient(KEY, base_url=URL.replace("/api", "/s/header_delay_ms=300/api"))
loop = BASE()
loop.run_until_complete(client.models.list())
task = loop.create_task(slow.models.list())
loop.run_until_complete(asyncio.sleep(0.05))  # the call is in flight
loop.close()  # with the call pending: its completion finds the loop closed
for thread in waker_threads():
    thread.join(5)
print(len(waker_threads()), loop.is_closed())
"""


def test_the_waker_thread_ends_with_its_loop(emu: Emulator) -> None:
    assert run_child(THREAD_LIFE, emu, "thread") == "1\n0\n0 True\n"


def test_a_loop_with_add_reader_gets_no_waker_thread(emu: Emulator) -> None:
    assert run_child(THREAD_LIFE, emu, "reader") == "0\n0\n0 True\n"


# Leaving the interpreter with the waker thread waiting, and with a call in flight that
# finishes while the interpreter shuts down, is clean.
EXIT_WITH_THREAD = """
client = mixerlead.AsyncClient(KEY, base_url=URL)
slow = mixerlead.AsyncClient(KEY, base_url=URL.replace("/api", "/s/header_delay_ms=100/api"))
loop = BASE()
for _ in range(10):
    loop.run_until_complete(client.models.list())
loop.run_until_complete(client.chat.send("x"))
pending = loop.create_task(slow.models.list())
loop.run_until_complete(asyncio.sleep(0.05))
print("ok")
"""


@PATHS
def test_interpreter_exit_with_a_waker_alive(emu: Emulator, path: str) -> None:
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", PRELUDE + EXIT_WITH_THREAD, KEY, emu.url(), path],
            capture_output=True,
            text=True,
            timeout=15,
        )
        assert (out.returncode, out.stdout) == (0, "ok\n"), out.stderr
        assert "panicked" not in out.stderr and "Fatal" not in out.stderr, out.stderr
