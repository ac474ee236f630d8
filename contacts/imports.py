"""Contact import from CSV, XLSX and vCard files: read, map columns, validate, find duplicates, commit, report, undo.

The flow: `create_import` keeps the uploaded file (in PostgreSQL, so any worker can read it) and
suggests a column mapping; `preview` shows the first rows as they will be imported; `start_import`
saves the mapping and queues `contacts.tasks.run_import`, which calls `run`. `run` commits rows in
batches (one transaction each, bulk inserts) and, run again, resumes after the last committed row
(an ImportRow per row, unique per import, is the record of what is done). `request_undo` + `undo`
delete what the import created and put back what it changed.

Imported contacts are made like hand-made ones: the services' email/phone cleaning and search text,
owner and team through `assign_owner`, companies through `create_company`.
"""

import codecs
import csv
import io
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice

import pghistory
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Max, ProtectedError, RestrictedError
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import services
from contacts.models import (
    Channel,
    Company,
    Contact,
    ContactEmail,
    ContactImport,
    ContactPhone,
    ContactTag,
    DuplicateMode,
    Gender,
    ImportRow,
    ImportRowAction,
    ImportStatus,
    LifecycleStage,
    PhoneKind,
    Source,
    Tag,
    TagSource,
)
from contacts.normalise import ascii_digits
from crm import policy
from crm.models import Role, User
from crm.services import assign_owner
from crm.visibility import can_see

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
BATCH_SIZE = 1000
PREVIEW_ROWS = 10
#: A queued, running or undoing import untouched for this long lost its message; beat re-sends it.
STUCK_AFTER = timedelta(minutes=10)
#: One task run works this long, then queues its own continuation (under the Celery time limits).
SLICE_SECONDS = 150
ROW = ""  # the errors key of a problem with the whole row rather than one column

# --- Targets and header detection ---------------------------------------------------------------

TARGETS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (split into first and last)"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone (mobile)"),
    "phone_work": gettext_lazy("Phone (work)"),
    "phone_home": gettext_lazy("Phone (home)"),
    "phone_whatsapp": gettext_lazy("WhatsApp"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "source": gettext_lazy("Source"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Region or division"),
    "country": gettext_lazy("Country"),
    "tags": gettext_lazy("Tags"),
    "notes": gettext_lazy("Notes"),
    "birth_date": gettext_lazy("Birth date"),
    "gender": gettext_lazy("Gender"),
    "preferred_language": gettext_lazy("Preferred language"),
    "preferred_channel": gettext_lazy("Preferred channel"),
    "email_opt_in": gettext_lazy("Email opt-in"),
    "sms_opt_in": gettext_lazy("SMS opt-in"),
    "phone_opt_in": gettext_lazy("Phone opt-in"),
    "do_not_contact": gettext_lazy("Do not contact"),
}
#: Targets several columns may feed (their values are added up).
MULTI_TARGETS = frozenset({"email", "phone", "phone_work", "phone_home", "phone_whatsapp", "tags", "notes"})
PHONE_TARGETS = {"phone": PhoneKind.MOBILE, "phone_work": PhoneKind.WORK, "phone_home": PhoneKind.HOME,
                 "phone_whatsapp": PhoneKind.WHATSAPP}
IDENTITY_TARGETS = frozenset({"first_name", "last_name", "full_name", "email", *PHONE_TARGETS})

_SYNONYMS = {
    "first_name": ["first name", "firstname", "given name", "forename", "fname", "প্রথম নাম", "নামের প্রথম অংশ"],
    "last_name": ["last name", "lastname", "surname", "family name", "lname", "পদবি", "শেষ নাম", "নামের শেষ অংশ"],
    "full_name": ["full name", "contact name", "customer name", "contact", "customer", "পুরো নাম", "পূর্ণ নাম",
                  "গ্রাহকের নাম"],
    "name": ["name", "নাম"],  # a full name, or the first name when the file has a last-name column
    "email": ["email", "e-mail", "email address", "e-mail address", "mail", "emails", "ইমেইল", "ই-মেইল", "ইমেল",
              "ই-মেল", "ইমেইল ঠিকানা"],
    "phone": ["phone", "mobile", "mobile number", "mobile no", "cell", "cell phone", "phone number", "phone no",
              "telephone", "tel", "contact number", "ফোন", "মোবাইল", "ফোন নম্বর", "মোবাইল নম্বর", "ফোন নাম্বার",
              "মোবাইল নাম্বার"],
    "phone_work": ["work phone", "office phone", "business phone", "অফিস ফোন", "অফিসের ফোন"],
    "phone_home": ["home phone", "বাসার ফোন", "বাড়ির ফোন"],
    "phone_whatsapp": ["whatsapp", "whatsapp number", "হোয়াটসঅ্যাপ"],
    "company": ["company", "organisation", "organization", "company name", "organisation name", "organization name",
                "org", "business", "employer", "প্রতিষ্ঠান", "কোম্পানি", "কোম্পানী", "প্রতিষ্ঠানের নাম"],
    "job_title": ["job title", "title", "position", "designation", "job", "পদবী", "পদ"],
    "lifecycle_stage": ["lifecycle stage", "lifecycle", "stage", "ধাপ", "পর্যায়"],
    "source": ["source", "lead source", "উৎস"],
    "city": ["city", "town", "district", "শহর", "জেলা"],
    "region": ["region", "division", "state", "province", "বিভাগ"],
    "country": ["country", "দেশ"],
    "tags": ["tags", "tag", "labels", "interests", "ট্যাগ", "আগ্রহ"],
    "notes": ["notes", "note", "comments", "comment", "remarks", "নোট", "মন্তব্য"],
    "birth_date": ["birth date", "birthday", "date of birth", "dob", "জন্ম তারিখ", "জন্মতারিখ", "জন্মদিন"],
    "gender": ["gender", "sex", "লিঙ্গ"],
    "preferred_language": ["language", "preferred language", "ভাষা"],
    "preferred_channel": ["preferred channel", "channel"],
    "email_opt_in": ["email opt-in", "email opt in", "email consent", "opt-in", "opt in", "subscribed", "newsletter"],
    "sms_opt_in": ["sms opt-in", "sms opt in", "sms consent"],
    "phone_opt_in": ["phone opt-in", "phone opt in", "call consent"],
    "do_not_contact": ["do not contact", "dnc"],
}
# Parts of a header that say what it is when no synonym matches exactly ("Primary Email", "Mobile 2").
_CONTAINS = [
    ("email", ("email", "mail", "ইমেইল", "ইমেল", "মেইল")),
    ("phone_work", ("workphone", "officephone", "অফিসফোন")),
    ("phone_home", ("homephone",)),
    ("phone_whatsapp", ("whatsapp",)),
    ("phone", ("phone", "mobile", "ফোন", "মোবাইল")),
    ("first_name", ("firstname", "givenname")),
    ("last_name", ("lastname", "surname", "familyname")),
    ("company", ("company", "organisation", "organization", "প্রতিষ্ঠান", "কোম্পানি")),
    ("tags", ("tag", "ট্যাগ")),
    ("notes", ("note", "নোট")),
]


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text)).casefold()
    return re.sub(r"[\s\-_.:/()*#]+", "", text)


_HEADER_INDEX = {_header_key(s): target for target, words in _SYNONYMS.items() for s in words}


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    """The column mapping guessed from header names (English or Bengali): {column index: target}."""
    guesses = []
    for header in headers:
        key = _header_key(header)
        target = _HEADER_INDEX.get(key, "")
        if not target:
            target = next((t for t, parts in _CONTAINS if any(p in key for p in parts)), "")
        guesses.append(target)
    has_last = "last_name" in guesses
    mapping, taken = {}, set()
    for index, target in enumerate(guesses):
        if target == "name":
            target = "first_name" if has_last else "full_name"
        if not target or (target in taken and target not in MULTI_TARGETS):
            continue
        if target == "full_name" and taken & {"first_name", "last_name"}:
            continue
        taken.add(target)
        mapping[str(index)] = target
    return mapping


def clean_mapping(headers: list[str], mapping) -> dict[str, str]:
    """A mapping from a form or the API as {column index: target}; errors keyed `mapping`.

    Accepts {index: target}, {header name: target} or a list of targets (one per column, "" to ignore).
    """
    if isinstance(mapping, (list, tuple)):
        mapping = {str(i): t for i, t in enumerate(mapping)}
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": _("Give the column mapping as an object or a list.")})
    by_name = {h: str(i) for i, h in enumerate(headers)}
    out, errors, used = {}, [], {}
    for column, target in mapping.items():
        column = str(column)
        index = column if column.isdigit() and int(column) < len(headers) else by_name.get(column)
        if index is None:
            errors.append(_("The file has no column “%(column)s”.") % {"column": column})
            continue
        target = str(target or "").strip()
        if not target:
            continue
        if target not in TARGETS:
            errors.append(_("“%(target)s” is not something a column can be imported as.") % {"target": target})
            continue
        if target not in MULTI_TARGETS and target in used:
            errors.append(_("Only one column can be imported as %(target)s (“%(a)s” and “%(b)s” are).") % {
                "target": TARGETS[target], "a": headers[int(used[target])], "b": headers[int(index)]})
            continue
        used[target] = index
        out[index] = target
    if not errors and not IDENTITY_TARGETS & set(out.values()):
        errors.append(_("Import at least one column as a name, an email or a phone number."))
    if errors:
        raise ValidationError({"mapping": errors})
    return dict(sorted(out.items(), key=lambda item: int(item[0])))


# --- Reading files ------------------------------------------------------------------------------


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


# --- Turning a row into a contact -------------------------------------------------------------


def _key(text) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


def _choices(choices, extra: dict | None = None) -> dict[str, str]:
    """Lookup of a choice by its value or its label in English and Bengali (any letter case)."""
    table = {}
    for value, label in choices:
        table[_key(value)] = value
        table[_key(str(value).replace("_", " "))] = value
        for lang in ("en", "bn"):
            with translation.override(lang):
                table[_key(label)] = value
    table.update({_key(k): v for k, v in (extra or {}).items()})
    return table


_TRUE = {"yes", "y", "true", "1", "on", "x", "✓", "হ্যাঁ", "হ্যা", "subscribed", "opted in", "opt-in"}
_FALSE = {"no", "n", "false", "0", "off", "না", "unsubscribed", "opted out", "opt-out"}
_COUNTRY_NAMES = {
    "bangladesh": "BD", "বাংলাদেশ": "BD", "india": "IN", "ভারত": "IN", "pakistan": "PK", "nepal": "NP",
    "bhutan": "BT", "sri lanka": "LK", "myanmar": "MM", "malaysia": "MY", "singapore": "SG", "china": "CN",
    "japan": "JP", "saudi arabia": "SA", "united arab emirates": "AE", "uae": "AE", "qatar": "QA", "kuwait": "KW",
    "oman": "OM", "united kingdom": "GB", "uk": "GB", "england": "GB", "united states": "US", "usa": "US",
    "us": "US", "canada": "CA", "australia": "AU", "germany": "DE", "france": "FR", "italy": "IT",
}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d %Y",
                 "%B %d %Y", "%d/%m/%y", "%Y%m%d")
_PHONE_KIND_WORDS = {
    "mobile": PhoneKind.MOBILE, "cell": PhoneKind.MOBILE, "মোবাইল": PhoneKind.MOBILE, "work": PhoneKind.WORK,
    "office": PhoneKind.WORK, "অফিস": PhoneKind.WORK, "home": PhoneKind.HOME, "বাসা": PhoneKind.HOME,
    "whatsapp": PhoneKind.WHATSAPP, "other": PhoneKind.OTHER,
}
_PHONE_KIND_SUFFIX = re.compile(r"\s*\(([^()0-9]+)\)\s*$")
_EXCEL_NUMBER = re.compile(r"\d+\.0+")


class _Lookups:
    """What converting cells needs, built once per import (labels in both languages, today)."""

    def __init__(self):
        self.stages = _choices(LifecycleStage.choices, {
            "লিড": "lead", "গ্রাহক": "customer", "ক্রেতা": "customer", "সাবস্ক্রাইবার": "subscriber",
            "marketing qualified": "mql", "sales qualified": "sql", "prospect": "lead", "client": "customer",
        })
        self.sources = _choices(Source.choices, {"web": "web_form", "website": "web_form", "form": "web_form"})
        self.genders = _choices(Gender.choices, {
            "m": "male", "f": "female", "o": "other", "man": "male", "woman": "female", "পুরুষ": "male",
            "মহিলা": "female", "নারী": "female", "অন্যান্য": "other", "n": "prefer_not_to_say", "u": "",
        })
        self.languages = _choices(settings.LANGUAGES, {
            "english": "en", "ইংরেজি": "en", "bengali": "bn", "bangla": "bn", "বাংলা": "bn",
        })
        self.channels = _choices(Channel.choices, {"call": "phone", "text": "sms", "facebook": "messenger"})
        self.today = timezone.localdate()


def _limited(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        raise ValidationError(_("Use at most %(limit)s characters (this has %(length)s).") % {
            "limit": limit, "length": len(text)})
    return text


def _choice(table: dict, text: str, message: str) -> str:
    value = table.get(_key(text))
    if value is None:
        raise ValidationError(message % {"value": text})
    return value


def _boolean(text: str) -> bool:
    key = _key(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": text})


def _birth_date(text: str, today: date) -> date:
    text = ascii_digits(text.strip())
    if re.match(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d", text):  # a spreadsheet's date with a time of day
        text = text[:10]
    text = " ".join(text.replace(",", " ").split())
    found = None
    for fmt in _DATE_FORMATS:
        try:
            found = datetime.strptime(text, fmt).date()
            break
        except ValueError:
            continue
    if found is None:  # month first, as US files write it (only when the day cannot be the month)
        try:
            found = datetime.strptime(text, "%m/%d/%Y").date()
        except ValueError:
            raise ValidationError(_("“%(value)s” is not a date; write it as 1990-01-31 or 31/01/1990.") % {
                "value": text}) from None
    if found > today or found.year < 1900:
        raise ValidationError(_("“%(value)s” is not a possible birth date.") % {"value": text})
    return found


def _country(text: str) -> str:
    code = text.strip().upper()
    if len(code) == 2 and code.isalpha():
        return "GB" if code == "UK" else code
    found = _COUNTRY_NAMES.get(_key(text))
    if found is None:
        raise ValidationError(_("“%(value)s” is not a country; use a two-letter code such as BD.") % {"value": text})
    return found


def _parts(cell, pattern: str) -> list[str]:
    if isinstance(cell, list):
        return [str(p).strip() for p in cell if str(p).strip()]
    return [p.strip() for p in re.split(pattern, str(cell)) if p.strip()]


def _emails(cell) -> list[str]:
    out = []
    for part in _parts(cell, r"[;,\n]"):
        named = re.search(r"<([^<>]+)>", part)
        out.extend([named.group(1)] if named else part.split())
    return services.clean_emails(out)


def _phones(cell, kind: str) -> list[tuple[str, str]]:
    values = []
    for part in _parts(cell, r"[;,\n]| / "):
        suffix = _PHONE_KIND_SUFFIX.search(part)
        this_kind = kind
        if suffix and _key(suffix.group(1)) in _PHONE_KIND_WORDS:
            this_kind, part = _PHONE_KIND_WORDS[_key(suffix.group(1))], part[: suffix.start()]
        part = ascii_digits(part.strip())
        if _EXCEL_NUMBER.fullmatch(part):  # a number a spreadsheet stored as 1712345678.0
            part = part.split(".")[0]
        values.append((part, this_kind))
    return services.clean_phones(values)


def split_full_name(text: str) -> tuple[str, str]:
    """"Md. Abdul Karim" -> ("Md. Abdul", "Karim"); "Karim, Abdul" -> ("Abdul", "Karim"); one word is a first name."""
    text = " ".join(text.split())
    if "," in text:
        last, _comma, first = text.partition(",")
        return first.strip(), last.strip()
    first, _space, last = text.rpartition(" ")
    return (first, last) if first else (last, "")


@dataclass
class PreparedRow:
    """One row of the file, converted: what the contact gets, or why not (errors keyed by column)."""

    number: int
    values: dict
    errors: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    emails: list = field(default_factory=list)
    phones: list = field(default_factory=list)
    company: str = ""
    tags: list = field(default_factory=list)
    consent: dict = field(default_factory=dict)
    shown: dict = field(default_factory=dict)  # column -> the value as it will be imported (for the preview)
    email_columns: dict = field(default_factory=dict)  # normalised email -> column it came from
    phone_columns: dict = field(default_factory=dict)
    duplicate: Contact | None = None  # (preview) an existing contact with the same email or phone

    def add_error(self, column: str, messages) -> None:
        self.errors.setdefault(column, []).extend([messages] if isinstance(messages, str) else messages)


_TEXT_LIMITS = {"first_name": 100, "last_name": 100, "job_title": 120, "city": 100, "region": 100}


class RowReader:
    """Converts raw rows with one mapping; pure Python (no database), so it serves the preview too."""

    def __init__(self, headers: list[str], mapping: dict[str, str], lookups: _Lookups | None = None):
        self.headers = headers
        self.columns = [(int(i), headers[int(i)], t) for i, t in mapping.items() if int(i) < len(headers)]
        self.lookups = lookups or _Lookups()

    def values_of(self, cells: list) -> dict:
        values = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(self.headers)}
        return {h: (v if isinstance(v, list) else str(v)) for h, v in values.items()}

    def prepare(self, number: int, cells: list) -> PreparedRow:
        row = PreparedRow(number=number, values=self.values_of(cells))
        extra = [c for c in cells[len(self.headers):] if not _blank(c)]
        if extra:
            row.add_error(ROW, _("This row has more cells than the header row has columns: %(cells)s.") % {
                "cells": ", ".join(map(str, extra))})
        full_name = None
        lk = self.lookups
        for index, header, target in self.columns:
            cell = cells[index] if index < len(cells) else ""
            if _blank(cell):
                continue
            text = cell if isinstance(cell, list) else str(cell).strip()
            try:
                if target in PHONE_TARGETS:
                    found = _phones(text, PHONE_TARGETS[target])
                    for number_, _kind in found:
                        row.phone_columns.setdefault(number_, header)
                    row.phones.extend(found)
                    row.shown[header] = ", ".join(n for n, _k in found)
                elif target == "email":
                    found = _emails(text)
                    for email in found:
                        row.email_columns.setdefault(email, header)
                    row.emails.extend(found)
                    row.shown[header] = ", ".join(found)
                elif target == "tags":
                    names = [" ".join(t.split()) for t in _parts(text, r"[;,]")]
                    too_long = [n for n in names if len(n) > 60]
                    if too_long:
                        raise ValidationError(_("“%(name)s” is longer than 60 characters.") % {"name": too_long[0]})
                    row.tags.extend(names)
                    row.shown[header] = ", ".join(names)
                elif target == "notes":
                    note = "\n".join(text) if isinstance(text, list) else str(text)
                    row.fields["notes"] = "\n\n".join(p for p in (row.fields.get("notes", ""), note) if p)
                    row.shown[header] = note
                elif isinstance(text, list):
                    raise ValidationError(_("Give one value here."))
                elif target in _TEXT_LIMITS:
                    row.fields[target] = row.shown[header] = _limited(text, _TEXT_LIMITS[target])
                elif target == "full_name":
                    full_name = split_full_name(_limited(text, 201))
                    row.shown[header] = " / ".join(full_name)
                elif target == "company":
                    row.company = row.shown[header] = _limited(text, 200)
                elif target == "lifecycle_stage":
                    row.fields[target] = _choice(lk.stages, text, _("“%(value)s” is not a lifecycle stage."))
                    row.shown[header] = str(LifecycleStage(row.fields[target]).label)
                elif target == "source":
                    row.fields[target] = _choice(lk.sources, text, _("“%(value)s” is not a source."))
                    row.shown[header] = str(Source(row.fields[target]).label)
                elif target == "gender":
                    gender = _choice(lk.genders, text, _("“%(value)s” is not a gender."))
                    if gender:  # "unknown" says nothing
                        row.fields[target] = gender
                        row.shown[header] = str(Gender(gender).label)
                elif target == "preferred_language":
                    row.fields[target] = row.shown[header] = _choice(lk.languages, text, _("“%(value)s” is not a language."))
                elif target == "preferred_channel":
                    row.fields[target] = _choice(lk.channels, text, _("“%(value)s” is not a channel."))
                    row.shown[header] = str(Channel(row.fields[target]).label)
                elif target == "country":
                    row.fields[target] = row.shown[header] = _country(text)
                elif target == "birth_date":
                    row.fields[target] = _birth_date(text, lk.today)
                    row.shown[header] = row.fields[target].isoformat()
                elif target in ("email_opt_in", "sms_opt_in", "phone_opt_in"):
                    row.consent[target.split("_")[0]] = _boolean(text)
                    row.shown[header] = _("yes") if row.consent[target.split("_")[0]] else _("no")
                elif target == "do_not_contact":
                    row.fields[target] = _boolean(text)
                    row.shown[header] = _("yes") if row.fields[target] else _("no")
            except ValidationError as exc:
                row.add_error(header, [m for ms in (exc.message_dict.values() if hasattr(exc, "error_dict")
                                                    else [exc.messages]) for m in ms])
        if full_name and not (row.fields.get("first_name") or row.fields.get("last_name")):
            first, last = full_name
            if len(first) > 100 or len(last) > 100:
                row.add_error(next(h for _i, h, t in self.columns if t == "full_name"),
                              _("Use at most %(limit)s characters (this has %(length)s).") % {
                                  "limit": 100, "length": max(len(first), len(last))})
            else:
                row.fields["first_name"], row.fields["last_name"] = first, last
        row.emails = list(dict.fromkeys(row.emails))
        seen = set()
        row.phones = [p for p in row.phones if not (p[0] in seen or seen.add(p[0]))]
        tag_keys = set()
        row.tags = [t for t in row.tags if not (t.casefold() in tag_keys or tag_keys.add(t.casefold()))]
        if not row.errors and not (row.fields.get("first_name") or row.fields.get("last_name") or row.emails
                                   or row.phones):
            row.add_error(ROW, _("Give at least a name, an email or a phone number."))
        return row


# --- Uploading, mapping, starting -----------------------------------------------------------------


def imports_visible_to(user: User):
    """Imports a user may see: their own; a manager's teams'; all for admins (see ContactImportQuerySet)."""
    return ContactImport.objects.visible_to(user)


def _require_importer(by: User) -> None:
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot import contacts."))


def _require_edit(by: User, contact_import: ContactImport) -> None:
    if not policy.can_edit(by, contact_import):
        raise PermissionDenied(_("Only the person who uploaded this file or their manager can do this."))


@transaction.atomic
def create_import(*, by: User, filename: str, data: bytes) -> ContactImport:
    """Keep an uploaded CSV, XLSX or vCard file and guess its column mapping (status "uploaded").

    The file must be at most 50 MB, readable, with a header row and at least one row of data.
    """
    _require_importer(by)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError({"file": _("The file is %(size)s MB; upload at most %(limit)s MB.") % {
            "size": round(len(data) / 1024 / 1024, 1), "limit": MAX_FILE_BYTES // 1024 // 1024}})
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    kind = file_kind(filename, data)
    headers, rows = read_table(data, filename)
    if next(rows, None) is None:
        raise ValidationError({"file": _("The file has a header row but no contacts under it.")})
    if kind == "vcard":
        from contacts import vcard

        mapping = dict(vcard.TABLE_MAPPING)
    else:
        mapping = suggest_mapping(headers)
    contact_import = ContactImport(filename=(filename or "upload")[:255], data=data, headers=headers, mapping=mapping)
    assign_owner(contact_import, by)
    contact_import.created_by = by
    contact_import.save()
    return contact_import


def preview(contact_import: ContactImport, *, mapping: dict | None = None, limit: int = PREVIEW_ROWS) -> list[PreparedRow]:
    """The first rows as they will be imported with `mapping` (default: the saved one), with their errors."""
    mapping = contact_import.mapping if mapping is None else mapping
    _headers, rows = read_table(bytes(contact_import.data), contact_import.filename)
    reader = RowReader(contact_import.headers, mapping)
    prepared = [reader.prepare(n, cells) for n, cells in islice(rows, limit)]
    emails = {e for p in prepared for e in p.emails}
    phones = {n for p in prepared for n, _k in p.phones}
    if emails or phones:
        owners = {c.pk: c for c in services.find_duplicates(emails=emails, phones=phones).only(
            "first_name", "last_name", "email", "phone", "owner_id", "team_id")}
        by_key = {}
        for email, cid in ContactEmail.objects.filter(contact_id__in=list(owners), email__in=emails).values_list(
                "email", "contact_id"):
            by_key.setdefault(email, cid)
        for number, cid in ContactPhone.objects.filter(contact_id__in=list(owners), number__in=phones).values_list(
                "number", "contact_id"):
            by_key.setdefault(number, cid)
        for row in prepared:
            match = next((by_key[k] for k in [*row.emails, *(n for n, _k in row.phones)] if k in by_key), None)
            row.duplicate = owners[match] if match else None
    return prepared


@transaction.atomic
def update_mapping(*, by: User, contact_import: ContactImport, mapping=None, duplicate_mode: str | None = None
                   ) -> ContactImport:
    """Change the column mapping and what to do with duplicates, before the import starts."""
    _require_edit(by, contact_import)
    if contact_import.status != ImportStatus.UPLOADED:
        raise ValidationError({"mapping": _("This import has started; its mapping can no longer change.")})
    errors = {}
    if mapping is not None:
        try:
            contact_import.mapping = clean_mapping(contact_import.headers, mapping)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if duplicate_mode is not None:
        if duplicate_mode not in DuplicateMode.values:
            errors["duplicate_mode"] = [_("Choose skip, update or create.")]
        else:
            contact_import.duplicate_mode = duplicate_mode
    if errors:
        raise ValidationError(errors)
    contact_import.save(update_fields=["mapping", "duplicate_mode", "updated_at"])
    return contact_import


def _enqueue(task_name: str, import_id: int) -> None:
    """Publish after commit; a broker outage is logged and the beat reconciler sends it later."""
    def publish():
        from contacts import tasks

        getattr(tasks, task_name).delay(import_id)

    transaction.on_commit(publish, robust=True)


@transaction.atomic
def start_import(*, by: User, contact_import: ContactImport, mapping=None, duplicate_mode: str | None = None
                 ) -> ContactImport:
    """Confirm the mapping and queue the import (it runs in the background; progress on the import)."""
    update_mapping(by=by, contact_import=contact_import, mapping=mapping, duplicate_mode=duplicate_mode)
    clean_mapping(contact_import.headers, contact_import.mapping)
    contact_import.status = ImportStatus.QUEUED
    contact_import.save(update_fields=["status", "updated_at"])
    _enqueue("run_import", contact_import.pk)
    return contact_import


@transaction.atomic
def retry_import(*, by: User, contact_import: ContactImport) -> ContactImport:
    """Queue a failed import again: it continues after the last row it committed."""
    _require_edit(by, contact_import)
    if contact_import.status != ImportStatus.FAILED:
        raise ValidationError({"status": _("Only a failed import can be tried again.")})
    contact_import.status, contact_import.failure = ImportStatus.QUEUED, ""
    contact_import.save(update_fields=["status", "failure", "updated_at"])
    _enqueue("run_import", contact_import.pk)
    return contact_import


@transaction.atomic
def request_undo(*, by: User, contact_import: ContactImport) -> ContactImport:
    """Queue the undo of an import: the contacts it created are deleted, the ones it updated put back."""
    _require_edit(by, contact_import)
    if contact_import.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        raise ValidationError({"status": _("Only a finished import can be undone.")})
    contact_import.status = ImportStatus.UNDOING
    contact_import.save(update_fields=["status", "updated_at"])
    _enqueue("undo_import", contact_import.pk)
    return contact_import


def create_vcard_import(*, by: User, filename: str, data: bytes, duplicate_mode: str = DuplicateMode.SKIP
                        ) -> ContactImport:
    """Import the cards of a .vcf file (vCard 2.1, 3.0 or 4.0) through the same pipeline, started at once."""
    from contacts import vcard

    if file_kind(filename, data) != "vcard":
        raise ValidationError({"file": _("Upload a vCard (.vcf) file.")})
    with transaction.atomic():
        contact_import = create_import(by=by, filename=filename, data=data)
        return start_import(by=by, contact_import=contact_import, mapping=dict(vcard.TABLE_MAPPING),
                            duplicate_mode=duplicate_mode)


# --- Running -----------------------------------------------------------------------------------

_LOCK_CLASS = 0x5AB1  # pg_advisory_lock(class, import id): one worker per import at a time


@contextmanager
def _import_lock(import_id: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, import_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, import_id])


@dataclass
class _Target:
    """A contact a batch creates or changes, with its emails, phones and tags as they will be."""

    contact: "Contact | _NewContact"
    emails: list
    phones: list
    tags: list  # names
    new: bool
    company_name: str = ""
    changed: set = field(default_factory=set)


class _NewContact:
    """The column values of a contact about to be created (a model instance per row costs too much)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def pk(self):
        return self.id


def _copy(model, columns: list[str], rows: Iterable[tuple]) -> None:
    """Insert rows with COPY: the fastest way into PostgreSQL (triggers and constraints still apply)."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _json(value):
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value)


def _json_value(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_CONSENT_FIELDS = {c: (f"{c}_opt_in", f"{c}_opt_in_at", f"{c}_opt_in_source") for c in services.CONSENT_CHANNELS}


class _Batcher:
    """Commits one batch of prepared rows: duplicates, companies, tags, bulk inserts and updates, ImportRows."""

    def __init__(self, contact_import: ContactImport, user: User):
        self.imp = contact_import
        self.user = user
        self.mode = contact_import.duplicate_mode
        self.companies: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.consent_source = (_("Import of %(file)s") % {"file": contact_import.filename})[:100]
        fields = Contact._meta.concrete_fields
        self.columns = [f.column for f in fields]
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.defaults.update(source=Source.IMPORT, import_batch_id=contact_import.pk, created_by_id=user.pk,
                             owner_id=user.pk, team_id=user.team_id)  # assign_owner: the owner's team

    # Decisions (no writes) -----------------------------------------------------------------------

    def _existing(self, rows: list[PreparedRow]):
        """Contacts (outside the trash) sharing an email or phone with the rows: `find_duplicates`' rule.

        Asked as three index lookups by value and by id rather than through find_duplicates' subquery:
        while a first big import grows the table the planner's statistics lag behind, and the
        subquery form then got a scan of every contact per batch. This form also says which key matched.
        """
        emails = {e for r in rows for e in r.emails}
        phones = {n for r in rows for n, _k in r.phones}
        if not emails and not phones:
            return {}, {}, {}
        email_hits = sorted((cid, email) for email, cid in
                            ContactEmail.objects.filter(email__in=emails).values_list("email", "contact_id"))
        phone_hits = sorted((cid, number) for number, cid in
                            ContactPhone.objects.filter(number__in=phones).values_list("number", "contact_id"))
        ids = {cid for cid, _k in email_hits} | {cid for cid, _k in phone_hits}
        if not ids:
            return {}, {}, {}
        qs = Contact.objects.filter(pk__in=sorted(ids))
        if self.mode == DuplicateMode.UPDATE:
            qs = qs.select_for_update(of=("self",))
        else:
            qs = qs.only("first_name", "last_name", "email", "phone", "owner_id", "team_id")
        contacts = {c.pk: c for c in qs}
        by_key = {}
        for cid, email in email_hits:
            if cid in contacts:
                by_key.setdefault(("e", email), cid)
        for cid, number in phone_hits:
            if cid in contacts:
                by_key.setdefault(("p", number), cid)
        targets = {}
        if self.mode == DuplicateMode.UPDATE and contacts:
            all_emails, all_phones, tags = {}, {}, {}
            for cid, email in ContactEmail.objects.filter(contact_id__in=list(contacts)).order_by(
                    "contact_id", "-is_primary", "id").values_list("contact_id", "email"):
                all_emails.setdefault(cid, []).append(email)
            for cid, number, kind in ContactPhone.objects.filter(contact_id__in=list(contacts)).order_by(
                    "contact_id", "-is_primary", "id").values_list("contact_id", "number", "kind"):
                all_phones.setdefault(cid, []).append((number, kind))
            for cid, name in ContactTag.objects.filter(contact_id__in=list(contacts)).values_list("contact_id",
                                                                                                  "tag__name"):
                tags.setdefault(cid, []).append(name)
            for cid, contact in contacts.items():
                targets[cid] = _Target(contact=contact, emails=all_emails.get(cid, []), phones=all_phones.get(cid, []),
                                       tags=tags.get(cid, []), new=False)
        return contacts, by_key, targets

    def _new_target(self, row: PreparedRow, now) -> _Target:
        contact = _NewContact({**self.defaults, "created_at": now, "updated_at": now, **row.fields})
        for channel, granted in row.consent.items():
            name, at, source = _CONSENT_FIELDS[channel]
            setattr(contact, name, granted)
            setattr(contact, at, now)
            setattr(contact, source, self.consent_source)
        return _Target(contact=contact, emails=list(row.emails), phones=list(row.phones), tags=list(row.tags),
                       new=True, company_name=row.company)

    def _apply(self, target: _Target, row: PreparedRow, now) -> dict:
        """Fill `target` with the row's non-empty values; return what they were before (for undo)."""
        contact, before = target.contact, {}
        for name, value in row.fields.items():
            if getattr(contact, name) == value:
                continue
            before[name] = _json_value(getattr(contact, name))
            setattr(contact, name, value)
            target.changed.add(name)
        for channel, granted in row.consent.items():
            for name in _CONSENT_FIELDS[channel]:
                before.setdefault(name, _json_value(getattr(contact, name)))
            name, at, source = _CONSENT_FIELDS[channel]
            setattr(contact, name, granted)
            setattr(contact, at, now)
            setattr(contact, source, self.consent_source)
            target.changed.update(_CONSENT_FIELDS[channel])
        if row.company:
            before["company_id"] = contact.company_id
            target.company_name = row.company
            target.changed.add("company")
        new_emails = [e for e in row.emails if e not in target.emails]
        if new_emails:
            before["emails"] = list(target.emails)
            target.emails.extend(new_emails)
        known = {n for n, _k in target.phones}
        new_phones = [p for p in row.phones if p[0] not in known]
        if new_phones:
            before["phones"] = [list(p) for p in target.phones]
            target.phones.extend(new_phones)
        known_tags = {t.casefold() for t in target.tags}
        new_tags = [t for t in row.tags if t.casefold() not in known_tags]
        if new_tags:
            before["tags"] = list(target.tags)
            target.tags.extend(new_tags)
        return before

    def _duplicate_message(self, contact: Contact | None, first_row: int | None) -> str:
        if first_row is not None:
            return _("The same email or phone as row %(row)s of this file.") % {"row": first_row}
        if can_see(self.user, contact):
            return _("A contact with this email or phone already exists: %(name)s.") % {"name": str(contact)}
        return _("A contact with this email or phone already exists in another team's records.")

    # The batch ------------------------------------------------------------------------------------

    def commit(self, rows: list[PreparedRow]) -> dict[str, int]:
        now = timezone.now()
        with transaction.atomic():
            valid = [r for r in rows if not r.errors]
            existing, by_key, targets = self._existing(valid)
            in_file: dict = {}  # key -> (target or None, row number) for keys of rows this batch imports
            outcome = {}  # row number -> (action, target, before)
            for row in valid:
                keys = [("e", e) for e in row.emails] + [("p", n) for n, _k in row.phones]
                match = None
                for key in keys:
                    if key in in_file:
                        match = (*in_file[key], key)
                        break
                    if key in by_key:
                        cid = by_key[key]
                        match = (targets.get(cid) or existing[cid], None, key)
                        break
                target = None
                if match is None or self.mode == DuplicateMode.CREATE:
                    target = self._new_target(row, now)
                    outcome[row.number] = (ImportRowAction.CREATED, target, None)
                else:
                    found, first_row, key = match
                    column = row.email_columns.get(key[1]) or row.phone_columns.get(key[1]) or ROW
                    if self.mode == DuplicateMode.SKIP:
                        contact = found.contact if isinstance(found, _Target) else found
                        row.add_error(column, self._duplicate_message(contact, first_row))
                        outcome[row.number] = (ImportRowAction.SKIPPED, None, None)
                        continue
                    if not found.new and not policy.can_edit(self.user, found.contact):
                        row.add_error(column, _("This contact belongs to another team; you cannot update it."))
                        outcome[row.number] = (ImportRowAction.REJECTED, None, None)
                        continue
                    target = found
                    outcome[row.number] = (ImportRowAction.UPDATED, target, self._apply(target, row, now))
                for key in keys:
                    in_file.setdefault(key, (target, row.number))
            counts = dict.fromkeys(ImportRowAction.values, 0)
            for row in rows:
                counts[outcome.get(row.number, (ImportRowAction.REJECTED,))[0]] += 1
            # first write of the transaction: it also gives the COPYs below their pghistory context
            ContactImport.objects.filter(pk=self.imp.pk).update(
                processed_rows=F("processed_rows") + len(rows), created_count=F("created_count") + counts["created"],
                updated_count=F("updated_count") + counts["updated"], skipped_count=F("skipped_count") + counts["skipped"],
                error_count=F("error_count") + counts["rejected"], updated_at=now,
            )
            touched = {id(t): t for _a, t, _b in outcome.values() if t is not None}
            self._write(list(touched.values()), now)
            import_rows = []
            for row in rows:
                action, target, before = outcome.get(row.number, (ImportRowAction.REJECTED, None, None))
                import_rows.append((
                    self.imp.pk, row.number, action, target.contact.pk if target else None,
                    _json({} if action == ImportRowAction.CREATED else row.values), _json(before), _json(row.errors),
                ))
            _copy(ImportRow, ["contact_import_id", "row_number", "action", "contact_id", "values", "before", "errors"],
                  import_rows)
        return counts

    def _company_ids(self, names: Iterable[str]) -> None:
        missing = {}
        for name in names:  # the first spelling in the file names a new company
            if _key(name) not in self.companies:
                missing.setdefault(_key(name), name)
        if not missing:
            return
        found = (Company.objects.visible_to(self.user).annotate(lname=Lower("name"))
                 .filter(lname__in=[n.lower() for n in missing.values()]).order_by("pk").values_list("name", "pk"))
        for name, pk in found:
            self.companies.setdefault(_key(name), pk)
        for key, name in missing.items():
            if key not in self.companies:
                self.companies[key] = services.create_company(by=self.user, name=name).pk

    def _tag_ids(self, names: Iterable[str]) -> None:
        missing = {}
        for name in names:
            if name.lower() not in self.tags:
                missing.setdefault(name.lower(), name)
        if not missing:
            return
        Tag.objects.bulk_create([Tag(name=n) for n in missing.values()], ignore_conflicts=True)
        for name, pk in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=list(missing)).values_list("name", "pk"):
            self.tags[name.lower()] = pk

    def _create(self, targets: list[_Target], now) -> None:
        """New contacts and their emails, phones and tags, with ids taken from the sequence, by COPY."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [Contact._meta.db_table, len(targets)])
            ids = [pk for (pk,) in cursor.fetchall()]
        for target, pk in zip(targets, ids, strict=True):
            target.contact.id = pk
        attnames = self.attnames
        _copy(Contact, self.columns, ([getattr(t.contact, a) for a in attnames] for t in targets))
        _copy(ContactEmail, ["contact_id", "email", "is_primary"],
              ((t.contact.id, email, i == 0) for t in targets for i, email in enumerate(t.emails)))
        _copy(ContactPhone, ["contact_id", "number", "kind", "is_primary"],
              ((t.contact.id, number, kind, i == 0) for t in targets for i, (number, kind) in enumerate(t.phones)))
        _copy(ContactTag, ["contact_id", "tag_id", "source", "created_at"],
              ((t.contact.id, tag_id, TagSource.IMPORT, now) for t in targets
               for tag_id in dict.fromkeys(self.tags[name.lower()] for name in t.tags)))

    def _write(self, targets: list[_Target], now) -> None:
        self._company_ids(t.company_name for t in targets if t.company_name)
        self._tag_ids(name for t in targets for name in t.tags)
        for t in targets:
            if t.company_name:
                t.contact.company_id = self.companies[_key(t.company_name)]
            t.contact.email = t.emails[0] if t.emails else ""
            t.contact.phone = t.phones[0][0] if t.phones else ""
            t.contact.search_text = services.contact_search_text(
                first_name=t.contact.first_name, last_name=t.contact.last_name, emails=t.emails,
                phones=[n for n, _k in t.phones])
        new = [t for t in targets if t.new]
        if new:
            self._create(new, now)
        changed = [t for t in targets if not t.new]
        if changed:
            self._update(changed, now)

    def _update(self, targets: list[_Target], now) -> None:
        """Existing contacts: changed fields in one UPDATE per chunk, the emails, phones and tags they gain."""
        for t in targets:
            t.contact.updated_at = now
        names = {"email", "phone", "search_text", "updated_at"}.union(*(t.changed for t in targets))
        Contact.objects.bulk_update([t.contact for t in targets], sorted(names), batch_size=500)
        ids = [t.contact.pk for t in targets]
        existing_emails = set(ContactEmail.objects.filter(contact_id__in=ids).values_list("contact_id", "email"))
        existing_phones = set(ContactPhone.objects.filter(contact_id__in=ids).values_list("contact_id", "number"))
        has_email = {cid for cid, _e in existing_emails}
        has_phone = {cid for cid, _n in existing_phones}
        emails, phones, links = [], [], []
        for t in targets:
            cid = t.contact.pk
            emails.extend(ContactEmail(contact_id=cid, email=email, is_primary=i == 0 and cid not in has_email)
                          for i, email in enumerate(t.emails) if (cid, email) not in existing_emails)
            phones.extend(ContactPhone(contact_id=cid, number=number, kind=kind, is_primary=i == 0 and cid not in has_phone)
                          for i, (number, kind) in enumerate(t.phones) if (cid, number) not in existing_phones)
            links.extend(ContactTag(contact_id=cid, tag_id=tag_id, source=TagSource.IMPORT, created_at=now)
                         for tag_id in dict.fromkeys(self.tags[n.lower()] for n in t.tags))
        ContactEmail.objects.bulk_create(emails)
        ContactPhone.objects.bulk_create(phones)
        ContactTag.objects.bulk_create(links, ignore_conflicts=True)


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


def run(import_id: int, *, progress: Callable[[int, int], None] | None = None,
        time_budget: float | None = None) -> str:
    """Import the file's rows after the last committed one, in batches of BATCH_SIZE; safe to run again.

    Returns "done", "more" (the time budget ran out: run again to continue), "failed" (the reason is
    on the import; committed batches stay), or "skipped" (nothing to do, or another worker has it).
    A database outage (OperationalError) is raised for the task to retry, leaving the import running.
    """
    with _import_lock(import_id) as locked:
        if not locked:
            return "skipped"
        contact_import = ContactImport.objects.select_related("owner").filter(pk=import_id).first()
        if contact_import is None or contact_import.status not in (
                ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED):
            return "skipped"
        user = contact_import.owner
        with translation.override(user.language or settings.LANGUAGE_CODE), \
                pghistory.context(user=user.pk, task="contacts.import", import_id=import_id):
            return _run(contact_import, user, progress=progress, time_budget=time_budget)


def _run(contact_import: ContactImport, user: User, *, progress, time_budget) -> str:
    began = time.monotonic()
    data = bytes(contact_import.data)
    now = timezone.now()
    last_row = None
    try:
        total = contact_import.total_rows or count_rows(data, contact_import.filename)
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ImportStatus.RUNNING, total_rows=total, failure="", updated_at=now,
            started_at=contact_import.started_at or now)
        done_up_to = ImportRow.objects.filter(contact_import=contact_import).aggregate(m=Max("row_number"))["m"] or 0
        _headers, rows = read_table(data, contact_import.filename)
        reader = RowReader(contact_import.headers, contact_import.mapping)
        batcher = _Batcher(contact_import, user)
        chunks = _batches(((n, cells) for n, cells in rows if n > done_up_to), BATCH_SIZE)
        language = translation.get_language()

        def prepare(chunk):
            with translation.override(language):
                return [reader.prepare(n, cells) for n, cells in chunk]

        # Rows are converted (pure Python) in a helper thread while the previous batch commits
        # (PostgreSQL works, the GIL is free): the two cores overlap instead of taking turns.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-rows") as pool:
            chunk = next(chunks, None)
            upcoming = pool.submit(prepare, chunk) if chunk else None
            while upcoming is not None:
                last_row = chunk[0][0]
                prepared = upcoming.result()
                chunk = next(chunks, None)
                upcoming = pool.submit(prepare, chunk) if chunk else None
                batcher.commit(prepared)
                if progress:
                    processed = ContactImport.objects.values_list("processed_rows", flat=True).get(pk=contact_import.pk)
                    progress(processed, total)
                if upcoming is not None and time_budget is not None and time.monotonic() - began > time_budget:
                    upcoming.cancel()
                    return "more"
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        log.exception("import %s failed", contact_import.pk)
        reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        where = (_("The import stopped at row %(row)s: %(reason)s.") % {"row": last_row, "reason": reason}
                 if last_row else _("The import could not start: %(reason)s.") % {"reason": reason})
        message = where + " " + _("Rows before it are imported; try again to continue from there.")
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ImportStatus.FAILED, failure=message[:2000], updated_at=timezone.now())
        return "failed"
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), updated_at=timezone.now())
    return "done"


# --- Undo ---------------------------------------------------------------------------------------


def _restore(contact: Contact, before: dict) -> None:
    """Put back one contact's values as they were before one row of an import changed it."""
    for name, value in before.items():
        if name in ("emails", "phones", "tags"):
            continue
        model_field = Contact._meta.get_field(name)
        setattr(contact, model_field.attname, model_field.to_python(value) if value is not None else None)
    if "emails" in before:
        contact.emails.exclude(email__in=before["emails"]).delete()
    if "phones" in before:
        contact.phones.exclude(number__in=[n for n, _k in before["phones"]]).delete()
    if "tags" in before:
        keep = Tag.objects.annotate(lname=Lower("name")).filter(lname__in=[t.lower() for t in before["tags"]])
        contact.tag_links.exclude(tag__in=keep).delete()
    emails = list(contact.emails.order_by("-is_primary", "id").values_list("email", flat=True))
    phones = list(contact.phones.order_by("-is_primary", "id").values_list("number", flat=True))
    contact.email, contact.phone = (emails[0] if emails else ""), (phones[0] if phones else "")
    contact.search_text = services.contact_search_text(first_name=contact.first_name, last_name=contact.last_name,
                                                       emails=emails, phones=phones)
    contact.save()


def undo(import_id: int, *, time_budget: float | None = None) -> str:
    """Undo an import in "undoing" state: restore updated contacts (latest row first), delete created ones.

    Safe to run again. Returns "done", "more" (time budget ran out) or "skipped". Contacts that other
    records (deals, tickets, orders) now point at are kept; the import says how many.
    """
    with _import_lock(import_id) as locked:
        if not locked:
            return "skipped"
        contact_import = ContactImport.objects.select_related("owner").filter(pk=import_id).first()
        if contact_import is None or contact_import.status != ImportStatus.UNDOING:
            return "skipped"
        user = contact_import.owner
        with translation.override(user.language or settings.LANGUAGE_CODE), \
                pghistory.context(user=user.pk, task="contacts.import_undo", import_id=import_id):
            return _undo(contact_import, time_budget=time_budget)


def _undo(contact_import: ContactImport, *, time_budget) -> str:
    began = time.monotonic()
    rows = ImportRow.objects.filter(contact_import=contact_import)
    created_rows = rows.filter(action=ImportRowAction.CREATED, contact__isnull=False)
    created = set(created_rows.values_list("contact_id", flat=True))
    updated = (rows.filter(action=ImportRowAction.UPDATED, contact__isnull=False, before__isnull=False)
               .exclude(contact_id__in=created_rows.values("contact_id")).order_by("-row_number")
               .values_list("pk", flat=True))
    for chunk in _batches(iter(list(updated)), 200):
        with transaction.atomic():
            entries = list(ImportRow.objects.filter(pk__in=chunk).order_by("-row_number").values_list("contact_id",
                                                                                                       "before", "pk"))
            contacts = Contact.all_objects.select_for_update().in_bulk([c for c, _b, _p in entries])
            for contact_id, before, _pk in entries:
                if contact_id in contacts and before:
                    _restore(contacts[contact_id], before)
            ImportRow.objects.filter(pk__in=[p for _c, _b, p in entries]).update(before=None)
            ContactImport.objects.filter(pk=contact_import.pk).update(updated_at=timezone.now())
        if time_budget is not None and time.monotonic() - began > time_budget:
            return "more"
    kept = []
    for chunk in _batches(iter(sorted(created)), 1000):
        with transaction.atomic():
            qs = Contact.all_objects.filter(pk__in=chunk, import_batch=contact_import)
            try:
                with transaction.atomic():
                    qs.delete()
            except (ProtectedError, RestrictedError):
                for contact in qs:
                    try:
                        with transaction.atomic():
                            contact.delete()
                    except (ProtectedError, RestrictedError):
                        kept.append(contact.pk)
            ContactImport.objects.filter(pk=contact_import.pk).update(updated_at=timezone.now())
        if time_budget is not None and time.monotonic() - began > time_budget:
            return "more"
    note = ""
    if kept:
        note = _("%(count)s contacts were kept because other records (deals, tickets, orders) now refer to them.") % {
            "count": len(kept)}
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.UNDONE, failure=note, updated_at=timezone.now())
    return "done"


# --- Reconciling lost messages ------------------------------------------------------------------


def stuck_imports(*, now=None) -> list[tuple[int, str]]:
    """Imports queued, running or undoing but untouched for STUCK_AFTER: (id, "run" | "undo") to send again.

    Marks them touched, so each is sent again at most once per STUCK_AFTER.
    """
    now = now or timezone.now()
    qs = ContactImport.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING], updated_at__lt=now - STUCK_AFTER)
    found = list(qs.values_list("pk", "status")[:500])
    ContactImport.objects.filter(pk__in=[pk for pk, _s in found]).update(updated_at=now)
    return [(pk, "undo" if status == ImportStatus.UNDOING else "run") for pk, status in found]


# --- The error report ---------------------------------------------------------------------------

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
