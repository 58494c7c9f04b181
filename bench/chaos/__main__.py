"""`make chaos`: the production deployment from the README under an alert storm, while its
processes are killed and its PostgreSQL and Redis restart. Writes the `chaos_*` rows into
bench/results.json (merged with what is there) and prints the faults with their times.

Everything runs on servers of its own, in a temporary directory: a PostgreSQL cluster made with
initdb and a redis-server, each on a free port (restarting them disturbs nothing else on the
machine). The portal runs as the README says (bench/chaos/deploy.py holds the commands):
production settings, gunicorn, a paging worker pool, two default worker pools, beat; a local
HTTP receiver stands for people's phones. Senders post Alertmanager webhooks and retry like
Alertmanager (exponential backoff on connection errors and 5xx). Every process and the
temporary directory are removed at the end, also on Ctrl-C or failure.

Options: --alerts (5000), --fingerprints (500), --rate (alerts per second, 60), --keep (leave
the temporary directory for reading the logs)."""

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos import deploy
from bench.chaos.servers import PostgresCluster, Proc, RedisServer, free_port, temp_root, wait_port
from bench.common import Receiver, Row, percentile, write_results

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TOKEN = re.compile(rb"chaos-fp-(\d+)")
LEVEL = re.compile(rb"Escalation level (\d+)")
PERSON = re.compile(r"/hooks/(\w+)")


@dataclass
class Fault:
    name: str
    started: float
    ended: float | None = None
    recovery: float = 0.0


@dataclass
class Run:
    root: Path
    env: dict
    web_port: int
    procs: dict = field(default_factory=dict)
    prober: "Prober | None" = None
    faults: list = field(default_factory=list)
    t0: float = 0.0

    def at(self, t: float) -> float:
        return t - self.t0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the deployment ----------------------------------------------------------------------------

def program(parts: list[str]) -> list[str]:
    """The README's commands name `python`, `gunicorn`, `celery`: this virtualenv's."""
    if parts[0] == "python":
        return [sys.executable, *parts[1:]]
    return [str(VENV_BIN / parts[0]), *parts[1:]]


def environment(root: Path, pg: PostgresCluster, redis: RedisServer, web_port: int) -> dict:
    site = f"https://127.0.0.1:{web_port}"
    env = dict(os.environ)
    for name in ("PYTHONPATH", "DEBUG", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": site,
        "SITE_URL": site,
        "DATABASE_URL": pg.url("portal"),
        "REDIS_URL": redis.url,
        "EMAIL_URL": "consolemail://",
        "DEFAULT_FROM_EMAIL": "Incident Portal <incidents@example.com>",
        "STATIC_ROOT": str(root / "static"),
        "PORTAL_VAR_DIR": str(root / "var"),
        # The receiver is on 127.0.0.1: a private address, refused unless allowed.
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "LOG_LEVEL": "WARNING",
    })
    assert set(deploy.ENV_VARS) <= set(env)
    return env


def run_step(run: Run, name: str, *extra: str) -> str:
    parts = program(deploy.argv(name)) + list(extra)
    done = subprocess.run(parts, env=run.env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(parts)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def portal_side(run: Run, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.chaos.portal_side", *args], env=run.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"portal_side {args[0]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def start(run: Run, key: str, name: str, **options: str) -> Proc:
    parts = program(deploy.argv(name, **options))
    proc = Proc(key, parts, run.root / "logs" / f"{key}.log", env=run.env, cwd=str(ROOT))
    run.procs[key] = proc
    return proc


WORKERS = {  # process key -> (command, node name); two paging pools, so one survives a kill
    "worker-paging-1": ("worker_paging", "paging1@%h"),
    "worker-paging-2": ("worker_paging", "paging2@%h"),
    "worker-default": ("worker_default", "default@%h"),
}


def start_worker(run: Run, key: str) -> Proc:
    command, node = WORKERS[key]
    return start(run, key, command, **{"-n": node, "--concurrency": "2"})


def start_beat(run: Run, key: str = "beat") -> Proc:
    return start(run, key, "beat", **{"--schedule": str(run.root / "var" / f"{key}-schedule")})


def gunicorn_workers(master: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == master:
                    children.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return children


# --- the storm -------------------------------------------------------------------------------

def payload(fp: int, rep: int) -> bytes:
    labels = {"alertname": "ChaosDown", "instance": f"chaos-{fp}:9100", "severity": "critical"}
    alert = {
        "status": "firing", "labels": labels, "annotations": {"summary": f"chaos-fp-{fp} is down (repeat {rep})"},
        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"{0xc4a0000 + fp:016x}",
    }
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{instance="chaos-{fp}:9100"}}', "status": "firing", "receiver": "portal",
        "groupLabels": {"instance": labels["instance"]}, "commonLabels": labels, "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0, "alerts": [alert],
    }).encode()


class Storm:
    """Senders that behave like Alertmanager's notifier: each notification is retried with
    exponential backoff (0.5 s, x1.5, jitter, at most 8 s) on connection errors, timeouts and
    5xx until it is accepted; a 4xx is final."""

    def __init__(self, port: int, key: str, alerts: int, fingerprints: int, rate: float, senders: int = 12):
        self.port, self.path = port, f"/api/v1/integrations/{key}/alertmanager/"
        reps = alerts // fingerprints
        # New fingerprints open all through the storm; repeats of each trail their first alert.
        work = [(fp * reps + rep * 25, fp, rep) for fp in range(fingerprints) for rep in range(reps)]
        self.work = [(fp, rep) for _k, fp, rep in sorted(work)]
        self.rate, self.senders = rate, senders
        self.lock = threading.Lock()
        self.next = 0
        self.accepted: dict[int, list[float]] = defaultdict(list)  # fp -> accept times
        self.refused: dict[int, int] = defaultdict(int)  # final 4xx
        self.statuses: dict[str, int] = defaultdict(int)
        self.retries = 0
        self.started = 0.0
        self.threads: list[threading.Thread] = []

    def take(self) -> tuple[int, int] | None:
        with self.lock:
            if self.next >= len(self.work):
                return None
            due = self.started + self.next / self.rate
            item = self.work[self.next]
            self.next += 1
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return item

    def send(self, conn_box: list, body: bytes) -> int:
        conn = conn_box[0]
        if conn is None:
            conn = conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request("POST", self.path, body=body, headers={
                "Content-Type": "application/json", "X-Forwarded-Proto": "https", "User-Agent": "Alertmanager/0.27.0"})
            response = conn.getresponse()
            response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn_box[0] = None
            return response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn_box[0] = None
            return 0

    def sender(self) -> None:
        conn_box = [None]
        while (item := self.take()) is not None:
            fp, rep = item
            body = payload(fp, rep)
            backoff = 0.5
            while True:
                status = self.send(conn_box, body)
                with self.lock:
                    self.statuses[str(status or "no answer")] += 1
                if 200 <= status < 300:
                    with self.lock:
                        self.accepted[fp].append(time.monotonic())
                    break
                if 400 <= status < 500 and status != 429:
                    with self.lock:
                        self.refused[fp] += 1
                    break
                with self.lock:
                    self.retries += 1
                time.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 1.5, 8.0)

    def start(self) -> None:
        self.started = time.monotonic()
        for _ in range(self.senders):
            thread = threading.Thread(target=self.sender, daemon=True)
            thread.start()
            self.threads.append(thread)

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


class Prober:
    """What an operator and a responder see during the run: /readyz and a staff API read every
    half second; `declare()` posts a declaration (from the fault plan, during an outage)."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.seen: list[tuple[float, int, str, int]] = []  # (time, readyz status, readyz body, API status)
        self.declared: list[tuple[float, str, int, float]] = []  # (time, during, status, seconds)
        self.stopped = threading.Event()

    def request(self, method: str, path: str, body: bytes | None = None, timeout: float = 15) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers={
                "X-Forwarded-Proto": "https", "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            return 0, b""
        finally:
            conn.close()

    def loop(self) -> None:
        while not self.stopped.wait(0.5):
            ready, body = self.request("GET", "/readyz")
            api, _ = self.request("GET", "/api/v1/incidents/?page_size=1")
            self.seen.append((time.monotonic(), ready, body.decode(errors="replace"), api))

    def declare(self, during: str) -> None:
        started = time.monotonic()
        status, _ = self.request("POST", "/api/v1/incidents/", json.dumps(
            {"title": f"Declared during: {during}", "severity": "P3"}).encode())
        self.declared.append((started, during, status, time.monotonic() - started))

    def start(self) -> None:
        threading.Thread(target=self.loop, daemon=True).start()


# --- the faults --------------------------------------------------------------------------------

def fault(run: Run, name: str):
    f = Fault(name, time.monotonic())
    run.faults.append(f)
    log(f"  t={run.at(f.started):6.1f} s  fault: {name}")
    return f


def end(run: Run, f: Fault) -> None:
    f.ended = time.monotonic()
    log(f"  t={run.at(f.ended):6.1f} s  ended: {f.name} ({f.ended - f.started:.1f} s)")


def kill_workers(run: Run, keys: list[str], down: float) -> None:
    f = fault(run, "SIGKILL " + " + ".join(keys))
    for key in keys:
        run.procs[key].kill()
    time.sleep(down)
    for key in keys:
        start_worker(run, key)
    end(run, f)


def restart_redis(run: Run, redis: RedisServer, down: float) -> None:
    f = fault(run, "Redis restart (broker and cache gone)")
    redis.stop()
    time.sleep(1)
    run.prober.declare("Redis down")
    time.sleep(max(0.0, down - (time.monotonic() - f.started)))
    redis.start()
    end(run, f)


def restart_postgres(run: Run, pg: PostgresCluster, down: float) -> None:
    f = fault(run, "PostgreSQL restart")
    pg.stop("fast")
    time.sleep(1)
    run.prober.declare("PostgreSQL down")
    time.sleep(max(0.0, down - (time.monotonic() - f.started)))
    pg.start()
    end(run, f)


def kill_gunicorn_workers(run: Run, how_many: int) -> None:
    f = fault(run, f"SIGKILL {how_many} gunicorn workers")
    for pid in gunicorn_workers(run.procs["web"].pid)[:how_many]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end(run, f)


def second_beat(run: Run, seconds: float) -> None:
    f = fault(run, "a second beat")
    beat = start_beat(run, "beat-2")
    time.sleep(seconds)
    beat.stop()
    end(run, f)


def schedule_faults(run: Run, pg: PostgresCluster, redis: RedisServer, storm_seconds: float) -> threading.Thread:
    s = storm_seconds / 100  # the plan is written for a 100-second storm
    plan = [
        (8 * s, lambda: kill_workers(run, ["worker-paging-1"], 3)),
        (18 * s, lambda: kill_gunicorn_workers(run, 2)),
        (25 * s, lambda: restart_redis(run, redis, 5)),
        (42 * s, lambda: restart_postgres(run, pg, 4)),
        (55 * s, lambda: kill_workers(run, ["worker-default", "worker-paging-2"], 3)),
        (62 * s, lambda: second_beat(run, 18 * s)),
        (74 * s, lambda: kill_workers(run, ["worker-paging-1", "worker-paging-2"], 3)),
    ]

    def play():
        for at, action in plan:
            delay = run.t0 + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                action()
            except Exception as exc:  # a fault that could not be played is reported, not fatal
                log(f"  fault failed: {exc!r}")

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    return thread


# --- measuring -----------------------------------------------------------------------------------

def pages(receiver: Receiver) -> list[tuple[float, int, str, int]]:
    """(arrival, fingerprint, person, level) of every page the receiver got."""
    found = []
    for arrived, path, body in list(receiver.deliveries):
        token, level, person = TOKEN.search(body), LEVEL.search(body), PERSON.search(path)
        if token and person and b"incident.page" in body:
            found.append((arrived, int(token.group(1)), person.group(1), int(level.group(1)) if level else 0))
    return found


def rows(run: Run, storm: Storm, receiver: Receiver, report: dict, people: list[str], fingerprints: int) -> list:
    got = pages(receiver)
    first: dict[tuple[int, str, int], float] = {}
    copies: dict[tuple[int, str, int], int] = defaultdict(int)
    for arrived, fp, person, level in got:
        first[(fp, person, level)] = min(first.get((fp, person, level), arrived), arrived)
        copies[(fp, person, level)] += 1
    accepted_fps = [fp for fp in range(fingerprints) if storm.accepted.get(fp)]
    by_fp = {int(k, 16) - 0xc4a0000: v for k, v in report["fingerprints"].items()}

    lost_alerts = sum(max(0, len(storm.accepted[fp]) - by_fp.get(fp, {"count": 0})["count"]) for fp in accepted_fps)
    exact_fps = sum(1 for fp in accepted_fps if len(by_fp.get(fp, {"incidents": []})["incidents"]) == 1)
    exact = int(exact_fps == len(accepted_fps) == fingerprints and report["incidents"] == fingerprints)
    missing = [(fp, p) for fp in accepted_fps for p in people if (fp, p, 1) not in first]
    doubled = sum(n - 1 for n in copies.values() if n > 1)
    latencies = [min(first[(fp, p, 1)] for p in people if (fp, p, 1) in first) - storm.accepted[fp][0]
                 for fp in accepted_fps if any((fp, p, 1) in first for p in people)]
    # A page that never came counts as the whole wait, a lower bound (chaos_pages_lost counts it too).
    waited_until = time.monotonic()
    latencies += [waited_until - storm.accepted[fp][0] for fp in accepted_fps
                  if not any((fp, p, 1) in first for p in people)]
    arrivals = sorted(a for a, *_ in got)
    recovery = 0.0
    for f in run.faults:
        after = next((a for a in arrivals if a >= f.ended), None)
        f.recovery = (after - f.ended) if after is not None else float("inf")
        recovery = max(recovery, f.recovery)

    log(f"\n  senders: {sum(len(v) for v in storm.accepted.values())} alerts accepted over {len(accepted_fps)} fingerprints, "
        f"{sum(storm.refused.values())} refused (4xx), {storm.retries} retries; answers {dict(storm.statuses)}")
    log(f"  portal: {report['incidents']} incidents; {exact_fps}/{len(accepted_fps)} fingerprints with exactly one")
    log(f"  receiver: {len(got)} pages; {len(missing)} first-level pages missing, {doubled} duplicates; "
        f"{receiver.duplicates} re-sends dropped by webhook-id; "
        f"latency p50 {percentile(latencies, 50):.2f} s, p99 {percentile(latencies, 99):.2f} s, max {max(latencies, default=0):.2f} s")
    log("  where the time went (p50 / p99 / max, s): " + "; ".join(
        f"{stage} {percentile(values, 50):.1f} / {percentile(values, 99):.1f} / {max(values, default=0):.1f}"
        for stage, values in report["stages"].items()))
    counts = defaultdict(int)
    for arrived in arrivals:
        counts[int(run.at(arrived) // 10)] += 1
    log("  pages delivered per 10 s from the storm's start: " + " ".join(f"{counts[i]}" for i in range(max(counts, default=-1) + 1)))
    slowest = sorted(((first_page - storm.accepted[fp][0], fp) for fp in accepted_fps
                      if (first_page := min((first[(fp, p, 1)] for p in people if (fp, p, 1) in first), default=None))), reverse=True)
    log("  slowest pages (latency, accepted at): " + ", ".join(
        f"{lat:.1f} s @ t={run.at(storm.accepted[fp][0]):.1f}" for lat, fp in slowest[:8]))
    if missing[:5]:
        log(f"  missing (fingerprint, person), first few: {missing[:5]}")
    log("\n  fault                                         start     end   next page after end   /readyz and staff API meanwhile")
    for f in run.faults:
        during = [(ready, body, api) for t, ready, body, api in run.prober.seen if f.started <= t <= f.ended]
        answers = sorted({f"readyz {ready} {_down(body)} · API {api}" for ready, body, api in during})
        log(f"  {f.name:<44} {run.at(f.started):6.1f}  {run.at(f.ended):6.1f}   {f.recovery:6.2f} s   {'; '.join(answers)}")
    for started, during, status, seconds in run.prober.declared:
        log(f"  declaration at t={run.at(started):.1f} s ({during}): HTTP {status} in {seconds:.2f} s")
    errors = sum(1 for _t, ready, _b, api in run.prober.seen if (api >= 500 and api != 503) or ready == 500)
    errors += sum(n for code, n in storm.statuses.items() if code.isdigit() and int(code) >= 500 and code != "503")
    log(f"  answers 5xx other than 503 during the run: {errors}; declared incidents kept: {report['declared']}")
    return [
        Row("chaos_alerts_lost", lost_alerts, "alerts", "0 (every alert a sender was told was accepted is recorded)"),
        Row("chaos_incidents_exact", exact, "bool",
            f"1 = exactly one incident per fingerprint ({exact_fps}/{fingerprints} fingerprints, {report['incidents']} incidents)"),
        Row("chaos_pages_lost", len(missing), "pages", "0 (every incident's first-level page reached each person)"),
        Row("chaos_pages_doubled", doubled, "pages", "0 (no person got the same level's page twice)"),
        Row("chaos_pages_resent", receiver.duplicates, "requests",
            "informational: re-sends of one delivery (same webhook-id) the receiver dropped, after a killed worker's claim was taken back"),
        Row("chaos_page_p99_s", percentile(latencies, 99), "s", "< 10 (alert accepted to first page, with the faults)"),
        Row("chaos_recovery_s", recovery, "s", "< 15 (longest time from a fault's end to the next page delivered)"),
    ]


def _down(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return "(no JSON)"
    down = [name for name, value in data.items() if value == "down"]
    return "down: " + ",".join(down) if down else "all ok"


# --- the run ---------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos")
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--fingerprints", type=int, default=500)
    parser.add_argument("--rate", type=float, default=60.0, help="alerts per second")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args(argv)

    root = temp_root("portal-chaos-")
    (root / "logs").mkdir()
    (root / "var").mkdir()
    pg, redis = PostgresCluster(root), RedisServer(root)
    receiver = Receiver()
    run = None
    interrupted = False

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where SIGINT is ignored
    try:
        log(f"… PostgreSQL (initdb) and Redis of our own under {root}")
        pg.init()
        pg.start()
        pg.createdb("portal")
        redis.start()
        run = Run(root, {}, free_port())
        run.env = environment(root, pg, redis, run.web_port)
        log("… migrate, collectstatic, seed (people, schedule, policy, service, integration)")
        run_step(run, "migrate")
        run_step(run, "collectstatic")
        setup = portal_side(run, "seed", receiver.url)
        log("… gunicorn, three worker pools, beat")
        start(run, "web", "web", **{"--bind": f"127.0.0.1:{run.web_port}", "--workers": "3"})
        for key in WORKERS:
            start_worker(run, key)
        start_beat(run)
        wait_port(run.web_port, 60)
        time.sleep(6)  # workers connect and mingle
        run.prober = Prober(run.web_port, setup["token"])

        storm = Storm(run.web_port, setup["key"], args.alerts, args.fingerprints, args.rate)
        storm_seconds = args.alerts / args.rate
        log(f"… storm: {args.alerts} alerts over {args.fingerprints} fingerprints at {args.rate:.0f}/s (~{storm_seconds:.0f} s), faults:")
        run.t0 = time.monotonic()
        storm.start()
        run.prober.start()
        faults = schedule_faults(run, pg, redis, storm_seconds)
        if not storm.join(storm_seconds + 120):
            log("  senders still retrying after the storm's time + 120 s")
        faults.join(60)
        log(f"  t={run.at(time.monotonic()):6.1f} s  storm over; waiting for the last pages")
        expected = {(fp, p) for fp in storm.accepted for p in setup["people"]}
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if expected <= {(fp, p) for _a, fp, p, level in pages(receiver) if level == 1}:
                break
            time.sleep(0.5)
        time.sleep(3)  # late duplicates would show here
        run.prober.stopped.set()
        report = portal_side(run, "report")
        dead = [key for key, proc in run.procs.items() if key != "beat-2" and not proc.alive()]
        if dead:
            log(f"  processes that died and were not restarted: {dead}")
        write_results(rows(run, storm, receiver, report, setup["people"], args.fingerprints), merge=True)
        return 0
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: cleaning up")
        return 130
    finally:
        for proc in (run.procs.values() if run else []):
            proc.stop(timeout=10)
        receiver.close()
        try:
            pg.stop("immediate")
        except Exception as exc:
            log(f"  could not stop PostgreSQL: {exc}")
        redis.stop()
        if args.keep and not interrupted:
            log(f"  logs kept in {root}/logs")
        else:
            shutil.rmtree(root, ignore_errors=True)



if __name__ == "__main__":
    sys.exit(main())
