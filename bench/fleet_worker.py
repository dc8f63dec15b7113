"""One Python process of the fleet: WORKERS threads streaming chats in a loop for SECONDS.

fleet_worker.py BASE_URL KEY SECONDS WORKERS MODE [REDIS_URL RATE_PER_MINUTE BURST]
MODE: off (rate_limit=0), defaults, or redis (rate_limit, rate_limit_burst, rate_limit_redis). Prints one JSON
line: {"ok", "failed", "errors", "latencies"}.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Dict, List

import mixerlead


def main() -> None:
    base_url, key, seconds, workers, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    options: Dict[str, Any] = {}
    if mode == "off":
        options["rate_limit"] = 0
    elif mode == "redis":
        options["rate_limit_redis"] = sys.argv[6]
        options["rate_limit"] = float(sys.argv[7])
        options["rate_limit_burst"] = int(sys.argv[8])
    client = mixerlead.Client(key, base_url=base_url, **options)
    end = time.monotonic() + seconds
    lock = threading.Lock()
    ok, failed, errors, latencies = [0], [0], {}, []  # type: ignore[var-annotated]

    def work() -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                client.chat.stream("fleet").read()
                with lock:
                    ok[0] += 1
                    latencies.append(time.monotonic() - started)
            except mixerlead.MixerLeadError as e:
                with lock:
                    failed[0] += 1
                    errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1

    threads: List[threading.Thread] = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"ok": ok[0], "failed": failed[0], "errors": errors, "latencies": latencies}))


if __name__ == "__main__":
    main()
