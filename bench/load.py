"""Load the pages agents use most through gunicorn and compare each with a bare hello-world.

    .venv/bin/python bench/load.py [--clients 16] [--seconds 10] [--rounds 3] [--profile]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal .venv/bin/python bench/load.py

Without DATABASE_URL a temporary SQLite file is migrated and filled with the demo data
(``flask db upgrade``, ``flask demo load``, ``flask search reindex``); with it, that database
must already hold the demo data. gunicorn serves ``bench/load_app.py`` (the portal plus
``/hello``) with two sync workers on 127.0.0.1 in production settings. A demo agent signs in
through the real sign-in form; then ``--clients`` clients (processes of threads, each with its
own keep-alive http.client connection and the agent's session cookie) load each page in turn
for ``--seconds``: /hello, the health check (the portal's floor: Flask, the security headers
and ``SELECT 1``), the agent's home, the library list, a document and a search. Every
round loads every page; the figures are the median requests per second over the rounds, and
p50/p95 over every request of the page. ``--profile`` also times one request of each page
in-process: SQL statements and their time, template time. Figures go to stdout.
"""

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AGENT = ("jose.reyes@atlas.example", "demo-password")
SEARCH = "refund"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DOCUMENT_RE = re.compile(r'href="(/library/\d+)"')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--processes", type=int, default=2, help="client processes (2)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per page and round (10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every page (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--profile", action="store_true", help="time one request in-process")
    return parser.parse_args(argv)


# --- the server -----------------------------------------------------------------------------


def portal_env(database_url: str, folder: Path) -> dict:
    return {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "SEARCH_INDEX_PATH": os.environ.get("SEARCH_INDEX_PATH", str(folder / "search-index")),
        "STORAGE_PATH": os.environ.get("STORAGE_PATH", str(folder / "attachments")),
        "MAIL_BACKEND": "console",
        "GUNICORN_ACCESS_LOG": "",  # no access log: it would cost every request, and flood stdout
    }


def prepare_demo(env: dict) -> None:
    """A migrated database with the demo data and its search index."""
    for command in (["db", "upgrade"], ["demo", "load"], ["search", "reindex"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, workers: int, port: int, log: Path) -> subprocess.Popen:
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"]
    command += ["-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--error-logfile", str(log), "bench.load_app:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited:\n{log.read_text()}")
        try:
            if Client(port).get("/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    sys.exit(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


# --- the clients ----------------------------------------------------------------------------


class Client:
    """One keep-alive connection with a cookie jar (http.client reopens it when told to close)."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = dict(cookies or {})

    def request(self, method, path, form=None) -> tuple[int, str]:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        return response.status, text

    def get(self, path):
        return self.request("GET", path)


def sign_in(port: int) -> dict:
    """The demo agent's session cookie, from the real sign-in form."""
    client = Client(port)
    status, page = client.get("/login")
    token = CSRF_RE.search(page).group(1)
    email, password = AGENT
    status, _ = client.request(
        "POST", "/login", {"csrf_token": token, "email": email, "password": password}
    )
    if status != 302:
        sys.exit(f"signing in as {email} failed ({status}): load the demo data first")
    return client.cookies


def _load(port, cookies, path, threads, start_at, seconds):
    """One client process: ``threads`` clients requesting ``path`` from ``start_at`` for
    ``seconds``. Returns the latencies in seconds and the statuses other than 200."""
    latencies, failures = [], []
    lock = threading.Lock()

    def one_client():
        client = Client(port, cookies)
        mine, bad = [], []
        time.sleep(max(0.0, start_at - time.time()))
        end = start_at + seconds
        while time.time() < end:
            began = time.perf_counter()
            status, _ = client.get(path)
            mine.append(time.perf_counter() - began)
            if status != 200:
                bad.append(status)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    workers = [threading.Thread(target=one_client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, failures


def load(pool, args, port, cookies, path, seconds):
    """Every client requesting ``path`` for ``seconds``: (requests/s, latencies, failures)."""
    per_process = [args.clients // args.processes] * args.processes
    per_process[0] += args.clients - sum(per_process)
    start_at = time.time() + 0.5
    jobs = [
        pool.submit(_load, port, cookies, path, threads, start_at, seconds)
        for threads in per_process
    ]
    latencies, failures = [], []
    for job in jobs:
        got, bad = job.result()
        latencies.extend(got)
        failures.extend(bad)
    return len(latencies) / seconds, latencies, failures


# --- figures --------------------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(pages, results):
    hello = statistics.median(results["/hello"]["rps"])
    print(f"\n{'page':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'vs hello':>10}{'errors':>8}")
    figures = {}
    for name, path in pages:
        result = results[path]
        rps = statistics.median(result["rps"])
        p50 = percentile(result["latencies"], 0.50) * 1000
        p95 = percentile(result["latencies"], 0.95) * 1000
        figures[name] = (rps, p95)
        print(
            f"{name:<22}{rps:>9.0f}{p50:>9.1f}{p95:>9.1f}"
            f"{rps / hello:>9.2f}x{len(result['failures']):>8}"
        )
    home_ratio = figures["agent home"][0] / hello
    search_ratio = figures["search"][1] / figures["library list"][1]
    print(f"\nagent home / hello-world throughput: {home_ratio:.2f} (target >= 0.33)")
    print(f"search p95 / library list p95:       {search_ratio:.2f} (target <= 1.5)")


def profile(env: dict, pages) -> None:
    """One request of each page in-process: statements, SQL time, template time, total."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from flask import before_render_template, template_rendered
    from sqlalchemy import event

    from portal.extensions import db
    from wsgi import app

    timings = {"sql": [], "templates": []}
    started = {}

    def before_sql(conn, *args):
        conn.info.setdefault("began", []).append(time.perf_counter())

    def after_sql(conn, *args):
        timings["sql"].append(time.perf_counter() - conn.info["began"].pop())

    def before_template(sender, template, context, **extra):
        started[template.name] = time.perf_counter()

    def after_template(sender, template, context, **extra):
        timings["templates"].append(time.perf_counter() - started.pop(template.name))

    client = app.test_client()
    https = "https://127.0.0.1"  # production cookies are Secure
    page = client.get("/login", base_url=https).get_data(as_text=True)
    email, password = AGENT
    form = {"csrf_token": CSRF_RE.search(page).group(1), "email": email, "password": password}
    signed_in = client.post("/login", data=form, base_url=https, headers={"Referer": https})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_sql)
    event.listen(engine, "after_cursor_execute", after_sql)
    before_render_template.connect(before_template, app)
    template_rendered.connect(after_template, app)
    print(f"\n{'page (one request)':<22}{'total ms':>10}{'SQL':>6}{'SQL ms':>9}{'template ms':>13}")
    for name, path in pages[1:]:
        client.get(path, base_url=https)  # warm: compiled templates, caches
        timings["sql"].clear()
        timings["templates"].clear()
        began = time.perf_counter()
        client.get(path, base_url=https)
        total = (time.perf_counter() - began) * 1000
        sql_ms = sum(timings["sql"]) * 1000
        template_ms = max(timings["templates"], default=0) * 1000
        print(f"{name:<22}{total:>10.1f}{len(timings['sql']):>6}{sql_ms:>9.1f}{template_ms:>13.1f}")
    print("(template time includes the SQL run while rendering)")


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="portal-load-") as folder:
        folder = Path(folder)
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'portal.db'}"
        env = portal_env(database_url, folder)
        if not os.environ.get("DATABASE_URL"):
            print(f"Preparing the demo data in {database_url} ...")
            prepare_demo(env)
        port = free_port()
        server = start_gunicorn(env, args.workers, port, folder / "gunicorn.log")
        try:
            cookies = sign_in(port)
            document = DOCUMENT_RE.search(Client(port, cookies).get("/library/")[1]).group(1)
            pages = [
                ("hello-world", "/hello"),
                ("health check", "/healthz"),  # the portal's floor: Flask, headers, SELECT 1
                ("agent home", "/"),
                ("library list", "/library/"),
                ("document", document),
                ("search", f"/search?q={SEARCH}"),
            ]
            print(
                f"gunicorn: {args.workers} sync workers; {args.clients} clients in "
                f"{args.processes} processes; {args.rounds} rounds of {args.seconds:g} s per page; "
                f"document {document}, search for '{SEARCH}'"
            )
            results = {path: {"rps": [], "latencies": [], "failures": []} for _, path in pages}
            with ProcessPoolExecutor(args.processes) as pool:
                for _, path in pages:  # warm-up: every worker compiles its templates
                    load(pool, args, port, cookies, path, 1.0)
                for _ in range(args.rounds):
                    for _, path in pages:
                        rps, latencies, failures = load(
                            pool, args, port, cookies, path, args.seconds
                        )
                        results[path]["rps"].append(rps)
                        results[path]["latencies"].extend(latencies)
                        results[path]["failures"].extend(failures)
            report(pages, results)
        finally:
            server.terminate()
            server.wait(timeout=30)
        errors = (folder / "gunicorn.log").read_text()
        print(f"server errors logged: {errors.count('Traceback')}")
        if args.profile:
            profile(env, pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
