"""Run everything a developer needs: migrate, demo data once, web + Celery worker + beat.

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL, or are the embedded ones under
`.local/` (started by settings). Ctrl-C stops every process this started; data stays.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start web, Celery worker and beat for local use (make run)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):
        started = time.monotonic()
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")  # idempotent: loads the demo org once, then only prints the logins
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        py = sys.executable
        local = settings.BASE_DIR / ".local"
        local.mkdir(exist_ok=True)
        commands = {
            "web": [py, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [py, "-m", "celery", "-A", "crm", "worker", "-l", "info", "--pool", "threads",
                       "--concurrency", "2", "-n", "devstack@%h"],
            "beat": [py, "-m", "celery", "-A", "crm", "beat", "-l", "info",
                     "--schedule", str(local / "celerybeat-schedule")],
        }
        procs = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, start_new_session=True)  # noqa: S603
                 for name, cmd in commands.items()}
        url = f"http://{host}:{port}/"
        if self._wait_for(url + "healthz", procs):
            elapsed = time.monotonic() - started
            self.stdout.write(self.style.SUCCESS(f"\nSampark is running at {url}  (ready in {elapsed:.1f} s)"))
            self.stdout.write(f"API docs: {url}api/docs/   Health: {url}healthz")
            self.stdout.write("Press Ctrl-C to stop web, worker and beat. Data stays in .local/.\n")
        stop = {"now": False}

        def _stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop["now"]:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping the rest.")
                        stop["now"] = True
                time.sleep(0.5)
        finally:
            self.stdout.write("\nStopping…")
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 40
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.stdout.write("Stopped. The embedded database and Redis stop with this process; data stays in .local/.")

    def _wait_for(self, url, procs, timeout=60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs.values()):
                return False
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback URL)
                    return True
            except urllib.error.HTTPError:
                return True  # answering (503 until the worker's first heartbeat)
            except OSError:
                time.sleep(0.3)
        return False
