import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Row:
    name: str
    value: float
    unit: str
    target: str


def write_results(rows: list[Row], *, merge: bool) -> None:
    """Print the table and write bench/results.json. merge: keep every row this run did not
    produce; otherwise start afresh but for the `make chaos` rows, which only `make chaos` makes."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not merge:
        results = {name: row for name, row in results.items() if name.startswith("chaos_")}
    width = max([len(r.name) for r in rows] + [4])
    print(f"{'row':<{width}}  {'value':>12}  {'unit':<10}  target")
    for r in rows:
        print(f"{r.name:<{width}}  {r.value:>12.4g}  {r.unit:<10}  {r.target}")
        results[r.name] = {"value": r.value, "unit": r.unit, "target": r.target}
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Receiver:
    """A local threaded HTTP receiver for webhook notifications: counts POSTs and keeps
    (time.monotonic() on arrival, body) for each in `arrivals`, (arrival, path, body) in `deliveries`.

    Like any Standard Webhooks receiver, it drops a message whose `webhook-id` it has seen
    already (a re-send after the portal took back the claim of a killed worker): answered 200,
    counted in `duplicates`, not kept. Distinct deliveries carry distinct ids, so a page the
    portal really sent twice still arrives twice."""

    def __init__(self):
        self.count = 0
        self.duplicates = 0
        seen: set[str] = set()
        self.arrivals: list[tuple[float, bytes]] = []
        self.deliveries: list[tuple[float, str, bytes]] = []
        lock = threading.Lock()
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrived = time.monotonic()
                message_id = self.headers.get("webhook-id", "")
                with lock:
                    duplicate = bool(message_id) and message_id in seen
                    if duplicate:
                        state.duplicates += 1
                    else:
                        seen.add(message_id)
                        state.count += 1
                        state.arrivals.append((arrived, body))
                        state.deliveries.append((arrived, self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"duplicate" if duplicate else b"ok")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
