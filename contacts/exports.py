"""Files of a list's current view: CSV (streamed) and XLSX (openpyxl's write-only mode).

Rows come from `contacts.selectors.contact_export`/`company_export` as dicts of values read in
chunks, so a million rows never sit in memory. Labels, choice names and times are resolved when
the export starts, in the user's language and time zone: a streamed body is written after the
view (and the middleware that set them) has returned.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from contacts.normalise import display_phone
from contacts.selectors import Column, ExportData

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A spreadsheet has 1,048,576 rows; one is the header.
XLSX_MAX_ROWS = 1_048_575

_FORMULA_START = ("=", "@", "\t", "\r")
_PHONE_LIKE = re.compile(r"^[+-][\d\s().-]*$")


def filename(kind_target: str, extension: str) -> str:
    """`contacts-2026-11-23.csv`: the list and the user's local date."""
    return f"{kind_target}-{timezone.localdate().isoformat()}.{extension}"


def _cell_readers(columns: list[Column], tz) -> list[Callable[[dict], object]]:
    """One function per column turning a row of values into what the file holds (labels resolved now)."""
    readers = []
    for column in columns:
        fields = column.fields
        if column.kind == "name":
            readers.append(lambda row, f=fields: " ".join(str(row[name]) for name in f if row[name]))
        elif column.kind == "phone":
            readers.append(lambda row, f=fields[0]: display_phone(row[f] or ""))
        elif column.kind == "choice":
            labels = {value: str(label) for value, label in column.choices}
            readers.append(lambda row, f=fields[0], labels=labels: labels.get(row[f], row[f] or ""))
        elif column.kind == "datetime":
            readers.append(lambda row, f=fields[0]: timezone.localtime(row[f], tz).replace(tzinfo=None) if row[f] else None)
        elif column.kind == "number":
            readers.append(lambda row, f=fields[0]: row[f] if row[f] is not None else 0)
        else:
            readers.append(lambda row, f=fields[0]: row[f] if row[f] is not None else "")
    return readers


def _rows(data: ExportData, readers, limit: int | None = None) -> Iterator[list]:
    for count, row in enumerate(data.rows):
        if limit is not None and count >= limit:
            break
        yield [read(row) for read in readers]


def _safe_text(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection); phone numbers stay as they are."""
    if value[:1] in _FORMULA_START or (value[:1] in "+-" and len(value) > 1 and not _PHONE_LIKE.match(value)):
        return "'" + value
    return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    return _safe_text(str(value)) if isinstance(value, str) else str(value)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value):
        return value


def _csv_lines(headers: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(headers)  # the BOM makes Excel read UTF-8 (Bengali) correctly
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


def csv_response(data: ExportData) -> StreamingHttpResponse:
    """The export as a streamed CSV file, UTF-8 with a byte-order mark."""
    headers = [str(c.label) for c in data.columns]
    readers = _cell_readers(data.columns, timezone.get_current_timezone())
    response = StreamingHttpResponse(_csv_lines(headers, _rows(data, readers)), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(data.kind.target, "csv")}"'
    return response


def _xlsx_cell(sheet, value):
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text that starts with "=" stays text, never a formula
        return cell
    if hasattr(value, "strftime"):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    return value


def xlsx_response(data: ExportData) -> FileResponse:
    """The export as an XLSX workbook, written row by row to a temporary file (bounded memory)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(data.kind.target).capitalize())
    bold = Font(bold=True)
    header = []
    for column in data.columns:
        cell = WriteOnlyCell(sheet, value=str(column.label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    readers = _cell_readers(data.columns, timezone.get_current_timezone())
    for row in _rows(data, readers, limit=XLSX_MAX_ROWS):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    workbook.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename(data.kind.target, "xlsx"), content_type=XLSX_TYPE)
