"""Opens pages of the built site in headless Chromium and fails on any console error, uncaught
exception, failed load or broken same-site link.

    browser.py SITE_DIR SCREENSHOT_DIR

The site is served from a loopback HTTP server; Chromium is driven over the DevTools protocol
(one websocket, one flattened session per page). Pages: the front page, a guide, and one page
of each API reference. A screenshot of the front page and of the Python reference goes to
SCREENSHOT_DIR.
"""

import asyncio
import base64
import functools
import http.server
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import websockets

PAGES = [
    "index.html",
    "guides/python.html",
    "reference/rust/mixerlead/index.html",
    "reference/python/mixerlead.html",
    "reference/node/index.html",
    "reference/c/mixerlead_8h.html",
    "reference/c/classmixerlead_1_1Client.html",
]
SCREENSHOTS = {"index.html": "front.png", "reference/python/mixerlead.html": "python-reference.png"}
SETTLE_SECONDS = 1.0

# Every same-site link of the page, fetched by the page itself; returns the ones that fail.
CHECK_LINKS = """(async () => {
  const urls = [...new Set([...document.querySelectorAll('a[href], link[href], script[src], img[src]')]
    .map((e) => new URL(e.href || e.src, location.href))
    .filter((u) => u.origin === location.origin)
    .map((u) => u.origin + u.pathname))];
  const bad = [];
  for (const url of urls) {
    const r = await fetch(url, { method: 'HEAD' });
    if (!r.ok) bad.push(url + ' ' + r.status);
  }
  return JSON.stringify({ checked: urls.length, bad });
})()"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the site without logging each request."""

    def log_message(self, *args: Any) -> None:
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    sys.exit("browser: no chromium on PATH (apt-get install chromium)")


class Browser:
    """A DevTools connection: commands by id, events queued per session."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif "method" in msg:
                self.events.setdefault(msg.get("sessionId", ""), []).append(msg)

    async def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = future
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    async def wait_for(self, session: str, method: str, timeout: float = 60) -> None:
        async def seen() -> None:
            while not any(e["method"] == method for e in self.events.get(session, [])):
                await asyncio.sleep(0.05)
        await asyncio.wait_for(seen(), timeout)


def problems(events: list[dict[str, Any]]) -> list[str]:
    """What went wrong on a page, from its DevTools events."""
    found = []
    for e in events:
        method, p = e["method"], e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = p["exceptionDetails"]
            found.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            found.append(f"console.{p['type']}: {' '.join(str(a.get('value', a.get('description'))) for a in p.get('args', []))}")
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            found.append(f"log: {p['entry']['text']} {p['entry'].get('url', '')}")
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            found.append(f"load failed: {p.get('errorText')} ({p.get('type')})")
        elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
            found.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
    return found


async def check(base_url: str, shots: Path) -> int:
    profile = tempfile.mkdtemp(prefix="docs-chromium-")
    proc = subprocess.Popen(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
         "--window-size=1280,900", f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    failed = 0
    try:
        assert proc.stderr is not None
        endpoint = None
        for line in proc.stderr:
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                endpoint = m.group(1)
                break
        if endpoint is None:
            print("browser: chromium did not start")
            return 1
        # Keep reading its stderr, so a chatty Chromium never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
        async with websockets.connect(endpoint, max_size=64 * 1024 * 1024) as ws:
            browser = Browser(ws)
            for page in PAGES:
                target = await browser.send("Target.createTarget", {"url": "about:blank"})
                session = (await browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}))["sessionId"]
                for domain in ("Page", "Runtime", "Log", "Network"):
                    await browser.send(f"{domain}.enable", session=session)
                await browser.send("Page.navigate", {"url": base_url + page}, session)
                await browser.wait_for(session, "Page.loadEventFired")
                await asyncio.sleep(SETTLE_SECONDS)
                links = await browser.send("Runtime.evaluate", {"expression": CHECK_LINKS, "awaitPromise": True, "returnByValue": True}, session)
                link_result = json.loads(links["result"]["value"])
                found = problems(browser.events.get(session, [])) + [f"broken link: {b}" for b in link_result["bad"]]
                if page in SCREENSHOTS:
                    shot = await browser.send("Page.captureScreenshot", {"format": "png"}, session)
                    (shots / SCREENSHOTS[page]).write_bytes(base64.b64decode(shot["data"]))
                await browser.send("Target.closeTarget", {"targetId": target["targetId"]})
                if found:
                    failed += 1
                    print(f"FAIL  {page}")
                    for problem in found:
                        print(f"      {problem}")
                else:
                    print(f"ok    {page} ({link_result['checked']} same-site links)")
            browser.reader.cancel()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"browser: {len(PAGES) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    site, shots = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    if not (site / "index.html").is_file():
        sys.exit(f"browser: no site in {site} (run make docs)")
    shots.mkdir(parents=True, exist_ok=True)
    server, base_url = serve(site)
    try:
        return asyncio.run(check(base_url, shots))
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
