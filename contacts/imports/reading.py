"""Reading an uploaded file as a table: its kind, its text encoding, CSV dialect, XLSX cells, the header row."""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def file_kind(filename: str, data: bytes) -> str:
    """"csv", "xlsx" or "vcard", from the name and the first bytes; ValidationError for anything else."""
    name = (filename or "").lower()
    head = data[:64].lstrip(codecs.BOM_UTF8).lstrip().upper()
    if data[:4] == b"PK\x03\x04" and not name.endswith((".csv", ".txt", ".tsv", ".vcf")):
        return "xlsx"
    if name.endswith((".vcf", ".vcard")) or head.startswith(b"BEGIN:VCARD"):
        return "vcard"
    if name.endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValidationError({"file": _("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or .csv.")})
    if name.endswith((".csv", ".txt", ".tsv")) or b"\x00" not in data[:4096] or data[:2] in (codecs.BOM_UTF16_LE,
                                                                                              codecs.BOM_UTF16_BE):
        return "csv"
    raise ValidationError({"file": _("Upload a CSV, Excel (.xlsx) or vCard (.vcf) file.")})


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; Windows-1252, then Latin-1, only when not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _csv_dialect(sample: str) -> tuple[str, bool]:
    """(delimiter, skip first line): Excel's `sep=;` line, else csv.Sniffer, checked against the header line."""
    first = sample.split("\n", 1)[0].strip("\r\ufeff")
    if re.fullmatch(r"sep=.", first):
        return first[4], True
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    try:
        delimiter = csv.Sniffer().sniff(sample[: sample.rfind("\n") + 1] or sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ""
    if counts.get(delimiter, 0) == 0:
        delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    return delimiter, False


def _csv_rows(data: bytes) -> Iterator[list]:
    encoding = detect_encoding(data)
    sample = data[:16384].decode(encoding, errors="ignore")
    delimiter, skip_first = _csv_dialect(sample)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    if skip_first:
        text.readline()
    try:
        yield from csv.reader(text, delimiter=delimiter)
    except csv.Error as exc:
        raise ValidationError({"file": _("The file is not valid CSV: %(error)s.") % {"error": exc}}) from None


def _cell_text(value) -> str:
    """An Excel cell as text: whole numbers without ".0" (phones keep their digits), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[list]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise ValidationError({"file": _("This is not an Excel file that can be read; save it again as .xlsx or .csv.")}
                              ) from None
    try:
        if not book.worksheets:
            return
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        book.close()


def _raw_rows(data: bytes, kind: str) -> Iterator[list]:
    if kind == "xlsx":
        return _xlsx_rows(data)
    if kind == "vcard":
        from contacts import vcard

        return iter(vcard.read_rows(data))
    return _csv_rows(data)


def _blank(cell) -> bool:
    return not (any(str(c).strip() for c in cell) if isinstance(cell, list) else str(cell).strip())


def _unique_headers(cells: list) -> list[str]:
    while cells and _blank(cells[-1]):
        cells = cells[:-1]
    headers, seen = [], {}
    for index, cell in enumerate(cells):
        header = " ".join(str(cell).replace("\ufeff", "").split()) or _("Column %(number)s") % {"number": index + 1}
        seen[header] = seen.get(header, 0) + 1
        headers.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return headers


def read_table(data: bytes, filename: str) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """The header row and the data rows (row number in the file, cells); blank rows are left out."""
    kind = file_kind(filename, data)
    # a vCard's "row" is its card: the made-up header row is row 0
    numbered = ((n, cells) for n, cells in enumerate(_raw_rows(data, kind), start=0 if kind == "vcard" else 1)
                if not all(_blank(c) for c in cells))
    first = next(numbered, None)
    if first is None:
        raise ValidationError({"file": _("The file is empty.")})
    return _unique_headers(first[1]), numbered


def count_rows(data: bytes, filename: str) -> int:
    _headers, rows = read_table(data, filename)
    return sum(1 for _row in rows)
