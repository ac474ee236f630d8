"""manage.py import_orders <file> --user <email>: import a CSV of order lines as a user, printing progress."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.models import User
from sales.order_import import MAX_FILE_BYTES, import_orders


class Command(BaseCommand):
    help = "Import orders from a CSV file (one row per order line) as the given user; re-importing updates."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument("--user", required=True, help="Email of the user the import runs as (visibility, owner).")

    def handle(self, *args, file, user, **options):
        by = User.objects.filter(email__iexact=user.strip(), is_active=True).first()
        if by is None:
            raise CommandError(f"No active user with the email {user!r}.")
        try:
            with open(file, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES * 20 + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc

        def progress(processed: int, total: int) -> None:
            if processed == total or processed % 50 == 0:
                self.stdout.write(f"{processed}/{total} orders")

        try:
            report = import_orders(by=by, data=data, progress=progress)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{report['rows']} rows, {report['orders']} orders: {report['created']} created, {report['updated']} updated, "
            f"{report['contacts_created']} contacts created, {len(report['errors'])} rows refused."
        )
        for entry in report["warnings"]:
            self.stdout.write(f"row {entry['row']} {entry['field']}: warning: {entry['message']}")
        for entry in report["errors"]:
            self.stderr.write(f"row {entry['row']} {entry['field']}: {entry['message']}")
        if report["errors"]:
            raise CommandError(f"{len(report['errors'])} rows were not imported.")
