"""Run a command with PostgreSQL and Redis up for its whole length (`make test` on the embedded path).

Settings start the embedded servers when DATABASE_URL / REDIS_URL are unset and put their URLs
in the environment; this process holds them while the command (and its children, such as
pytest-xdist workers and the Celery workers tests start) runs, so none of them starts its own.
"""

import subprocess

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run COMMAND with the database and Redis available (embedded ones when no URLs are set)."

    def add_arguments(self, parser):
        parser.add_argument("command", nargs="+", help="the command and its arguments (after --)")

    def handle(self, *args, command, **options):
        code = subprocess.call(command)  # noqa: S603 (a developer's own command line)
        if code:
            raise CommandError(f"{command[0]} exited with status {code}", returncode=code)
