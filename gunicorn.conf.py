"""gunicorn settings for the portal: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Each value can be changed from the environment (named beside it) or on the command line,
which wins over this file. The portal's own settings (PORTAL_ENV, SECRET_KEY, DATABASE_URL...)
come from the environment as usual; see README "Running on several hosts".
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen. GUNICORN_BIND takes a full address ("0.0.0.0:8000", "unix:/run/portal.sock",
# several separated by commas); otherwise PORT on loopback. Listen beyond loopback only when
# a firewall lets nothing but the load balancer reach this port.
bind = [
    address.strip()
    for address in (os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{_int('PORT', 8000)}").split(",")
    if address.strip()
]

# One process per request at a time (sync): the portal is database-bound, and every worker
# has its own database connection pool. 2 x cores + 1 is gunicorn's usual start; each
# worker holds a few connections, so size PostgreSQL's max_connections for hosts x workers.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
threads = 1

# A request that takes longer than this kills its worker (large CSV exports stream for a
# while: raise it rather than let an export be cut off). Workers get graceful_timeout to
# finish their request on restart or shutdown.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)

# Restart each worker after about this many requests (the jitter keeps them from all
# restarting at once), so slow leaks in any library cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# Each worker imports the app itself. With preload_app the master would create the app, and
# with it SQLAlchemy's engine, before forking: every worker would then inherit the same open
# database connections (and Whoosh and boto3 clients), which is unsafe across processes.
preload_app = False

# Whose X-Forwarded-Proto gunicorn believes when it sets the request's scheme. The portal
# itself reads the client's address and scheme through TRUSTED_PROXY_COUNT; keep this at the
# loopback default unless a proxy on another address terminates TLS, and then name that
# proxy (FORWARDED_ALLOW_IPS=10.0.0.5). Never "*" on a port clients can reach directly.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access and error logs to stdout/stderr, for the service manager or container to collect;
# the access log adds the request time in milliseconds and the forwarding chain.
# GUNICORN_ACCESS_LOG= (empty) turns the access log off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
)

# Heartbeat files in memory: a container's disk-backed /tmp can stall workers into timeouts.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

proc_name = "partner-portal"

# gunicorn's control socket (gunicornc) defaults to one path per user, which two instances on
# a host would fight over; it is off unless GUNICORN_CONTROL_SOCKET names a path of its own.
# Signals (HUP to reload, TERM to stop) work either way.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
