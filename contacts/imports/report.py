"""What an import did not import: the error report (CSV) and the first problem rows for its page."""

import csv
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _

from contacts.models import ContactImport, ImportRow, ImportRowAction

_FORMULA_START = ("=", "@", "\t", "\r")


def _safe_cell(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    if text.startswith(_FORMULA_START) or (text[:1] in "+-" and len(text) > 1 and not re.match(r"[+-][\d\s(]", text)):
        return "'" + text
    return text


def reasons(errors: dict) -> str:
    """One line of a row's problems: "Email: “x” is not an email address; Phone: …"."""
    parts = []
    for column, messages in (errors or {}).items():
        text = " ".join(messages if isinstance(messages, list) else [str(messages)])
        parts.append(f"{column}: {text}" if column else text)
    return "; ".join(parts)


class _Line:
    def write(self, value):
        return value


def error_report_lines(contact_import: ContactImport) -> Iterator[str]:
    """The rows that were not imported (rejected or skipped) as CSV lines, UTF-8 BOM first (Excel reads it)."""
    writer = csv.writer(_Line())
    yield "\ufeff"
    yield writer.writerow([_("Row"), _("Result"), _("Reasons"), *contact_import.headers])
    labels = dict(ImportRowAction.choices)
    rows = (ImportRow.objects.filter(contact_import=contact_import,
                                     action__in=[ImportRowAction.REJECTED, ImportRowAction.SKIPPED])
            .order_by("row_number").values_list("row_number", "action", "errors", "values"))
    for number, action, errors, values in rows.iterator(chunk_size=2000):
        yield writer.writerow([number, str(labels[action]), _safe_cell(reasons(errors)),
                               *(_safe_cell(values.get(h, "")) for h in contact_import.headers)])


def problem_rows(contact_import: ContactImport, *, limit: int = 20) -> list[ImportRow]:
    """The first rows that were not imported, for the import's page."""
    return list(ImportRow.objects.filter(contact_import=contact_import, action__in=[
        ImportRowAction.REJECTED, ImportRowAction.SKIPPED]).order_by("row_number")[:limit])
