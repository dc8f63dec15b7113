"""The asyncio bridge's waker (how a finished call reaches its event loop) under the conditions
that used to deadlock it: a loop finalized by the garbage collector while another loop is being
registered, a thread switch during registration, a fork during registration, and a completion
that fails to settle. Each scenario runs in a child process with a timeout, so a deadlock fails
the test instead of hanging the suite."""

from __future__ import annotations

import subprocess
import sys

from conftest import KEY, Emulator

PRELUDE = """
import asyncio, gc, os, sys, threading, time
import mixerlead
KEY, URL = sys.argv[1], sys.argv[2]
"""


def run_child(code: str, emu: Emulator, timeout: float = 15.0) -> str:
    try:
        out = subprocess.run(
            [sys.executable, "-c", PRELUDE + code, KEY, emu.url()],
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
class CollectingLoop(asyncio.SelectorEventLoop):
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


def test_a_loop_finalized_by_the_gc_during_registration(emu: Emulator) -> None:
    assert run_child(GC_DURING_REGISTRATION, emu) == "ok\n"


# The same without a custom loop: many loops dropped unclosed, and a collection on (nearly)
# every allocation, so finalizers run at arbitrary points of the bridge's own Python calls.
GC_STRESS = """
import warnings
warnings.simplefilter("ignore", ResourceWarning)
client = mixerlead.AsyncClient(KEY, base_url=URL)
gc.set_threshold(1, 1, 1)
for _ in range(60):
    loop = asyncio.new_event_loop()
    loop.run_until_complete(client.models.list())
    loop.cycle = loop
    del loop
    gc.collect(0)
print("ok")
"""


def test_loops_dropped_under_gc_pressure(emu: Emulator) -> None:
    assert run_child(GC_STRESS, emu, timeout=40) == "ok\n"


# Registration calls Python (add_reader), and Python code can release the GIL: another thread
# registering its own loop meanwhile must not block while holding the GIL.
THREAD_SWITCH = """
class SlowLoop(asyncio.SelectorEventLoop):
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


def test_threads_registering_loops_at_once(emu: Emulator) -> None:
    assert run_child(THREAD_SWITCH, emu) == "[True, True, True, True]\n"


# A fork while another thread is in the middle of registering a loop: the child must not
# inherit a lock that nobody will ever release.
FORK_DURING_REGISTRATION = """
entered = threading.Event()

class SlowLoop(asyncio.SelectorEventLoop):
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
        models = asyncio.run(client.models.list())
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


def test_fork_during_registration(emu: Emulator) -> None:
    assert run_child(FORK_DURING_REGISTRATION, emu) == "child exit 0\n"


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

class TouchyLoop(asyncio.SelectorEventLoop):
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


def test_a_failing_settle_does_not_drop_the_other_completions(emu: Emulator) -> None:
    assert run_child(SETTLE_FAILURE, emu) == "5 ['boom'] 0\n"
