"""vCard (RFC 2426 3.0, RFC 6350 4.0; reading also 2.1) for contacts: one card out, many cards in.

`serialize` writes a contact's card; `read_rows` turns a .vcf file into a table (a header row and a row
per card) that `contacts.imports` imports like a spreadsheet with `TABLE_MAPPING`, so cards get the
same validation, duplicate handling, report and undo as CSV rows.
"""

import quopri
import re
import uuid
from datetime import UTC

from django.conf import settings
from django.utils.translation import gettext as _

from contacts.models import Contact, PhoneKind

VERSIONS = ("3.0", "4.0")
LINE_OCTETS = 75

_PHONE_TYPES = {
    PhoneKind.MOBILE: ["cell"], PhoneKind.WORK: ["work", "voice"], PhoneKind.HOME: ["home", "voice"],
    PhoneKind.WHATSAPP: ["cell", "x-whatsapp"], PhoneKind.OTHER: ["voice"],
}
_GENDERS_OUT = {"male": "M", "female": "F", "other": "O", "prefer_not_to_say": "N"}
_GENDERS_IN = {"m": "male", "f": "female", "o": "other", "n": "prefer_not_to_say"}


# --- Writing ------------------------------------------------------------------------------------


def escape(text) -> str:
    """A text value with vCard's escapes: backslash, newline, comma, semicolon."""
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with a space), never inside a UTF-8 character."""
    if len(line.encode()) <= LINE_OCTETS:
        return line
    lines, current, size = [], [], 0
    for char in line:
        octets = len(char.encode())
        if size + octets > LINE_OCTETS:
            lines.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += octets
    lines.append("".join(current))
    return "\r\n".join(lines)


def _uid(contact: Contact) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.SITE_URL.rstrip('/')}/contacts/{contact.pk}/"))


def serialize(contact: Contact, *, version: str = "3.0") -> str:
    """The contact as one vCard (UTF-8 text, CRLF line ends); prefetch emails, phones, tags and company."""
    if version not in VERSIONS:
        raise ValueError(f"vCard version {version!r}")
    v4 = version == "4.0"
    emails = sorted(contact.emails.all(), key=lambda e: (not e.is_primary, e.pk))
    phones = sorted(contact.phones.all(), key=lambda p: (not p.is_primary, p.pk))
    tags = [link.tag.name for link in contact.tag_links.all()]
    lines = ["BEGIN:VCARD", f"VERSION:{version}", "PRODID:-//Sampark CRM//EN"]
    if v4:
        lines.append("KIND:individual")
    lines.append(f"N:{escape(contact.last_name)};{escape(contact.first_name)};;;")
    lines.append(f"FN:{escape(contact.full_name or str(contact))}")
    if contact.company_id:
        lines.append(f"ORG:{escape(contact.company.name)}")
    if contact.job_title:
        lines.append(f"TITLE:{escape(contact.job_title)}")
    for i, email in enumerate(emails):
        if v4:
            lines.append(f"EMAIL{';PREF=1' if i == 0 else ''}:{email.email}")
        else:
            lines.append(f"EMAIL;TYPE=INTERNET{',PREF' if i == 0 else ''}:{email.email}")
    for i, phone in enumerate(phones):
        types = list(_PHONE_TYPES.get(phone.kind, ["voice"]))
        if v4:
            pref = ";PREF=1" if i == 0 else ""
            lines.append(f'TEL;VALUE=uri;TYPE="{",".join(types)}"{pref}:tel:{phone.number}')
        else:
            types += ["pref"] if i == 0 else []
            lines.append(f"TEL;TYPE={','.join(t.upper() for t in types)}:{phone.number}")
    if contact.city or contact.region or contact.country:
        address = ";".join(["", "", "", escape(contact.city), escape(contact.region), "", escape(contact.country)])
        lines.append(f"ADR;TYPE={'home' if v4 else 'HOME'}:{address}")
    if contact.birth_date:
        lines.append(f"BDAY:{contact.birth_date.strftime('%Y%m%d' if v4 else '%Y-%m-%d')}")
    if v4 and contact.gender in _GENDERS_OUT:
        lines.append(f"GENDER:{_GENDERS_OUT[contact.gender]}")
    if v4 and contact.preferred_language:
        lines.append(f"LANG:{contact.preferred_language}")
    if tags:
        lines.append("CATEGORIES:" + ",".join(escape(t) for t in tags))
    if contact.notes:
        lines.append(f"NOTE:{escape(contact.notes)}")
    uid = _uid(contact)
    lines.append(f"UID:urn:uuid:{uid}" if v4 else f"UID:{uid}")
    rev = contact.updated_at.astimezone(UTC)
    lines.append(f"REV:{rev.strftime('%Y%m%dT%H%M%SZ' if v4 else '%Y-%m-%dT%H:%M:%SZ')}")
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


# --- Reading ------------------------------------------------------------------------------------


def _split(value: str, separator: str) -> list[str]:
    """Split on a separator that is not escaped with a backslash (escapes are kept for `unescape`)."""
    parts, current, i = [], [], 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            current.append(value[i:i + 2])
            i += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _outside_quotes(text: str, separator: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _content_line(line: str):
    """(NAME, {PARAM: [values]}, raw value) of one unfolded line, or None when it is not one."""
    quoted, colon = False, -1
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            colon = i
            break
    if colon <= 0:
        return None
    head, value = line[:colon], line[colon + 1:]
    name, *raw_params = _outside_quotes(head, ";")
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        key, equals, values = raw.partition("=")
        if not equals:  # vCard 2.1: TEL;CELL;PREF:...
            key, values = "TYPE", key
        params.setdefault(key.strip().upper(), []).extend(
            v.strip().strip('"').lower() for v in _outside_quotes(values.strip().strip('"'), ",") if v.strip())
    return name.split(".")[-1].strip().upper(), params, value


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _is_quoted_printable(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def parse(data: bytes) -> list[list[tuple[str, dict, str]]]:
    """The cards of a .vcf file, each a list of (NAME, params, value) with values decoded (not unescaped).

    Folded lines are joined before decoding, so a fold inside a UTF-8 character does no harm;
    vCard 2.1 quoted-printable values (with their soft line breaks and CHARSET) are decoded.
    """
    data = re.sub(rb"(\r\n|\r|\n)[ \t]", b"", data)
    lines = re.split(r"\r\n|\r|\n", _decode(data))
    cards, current, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if _is_quoted_printable(line):
            while line.endswith("=") and i < len(lines):
                line = line[:-1] + lines[i]
                i += 1
        parsed = _content_line(line)
        if parsed is None:
            continue
        name, params, value = parsed
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            current = []
        elif name == "END" and value.strip().upper() == "VCARD":
            if current is not None:
                cards.append(current)
            current = None
        elif current is not None:
            encoding = [e.upper() for e in params.get("ENCODING", [])] + [t.upper() for t in params.get("TYPE", [])]
            if "QUOTED-PRINTABLE" in encoding:
                charset = (params.get("CHARSET") or ["utf-8"])[0]
                try:
                    value = quopri.decodestring(value.encode("latin-1", "replace")).decode(charset, "replace")
                except LookupError:
                    value = quopri.decodestring(value.encode("latin-1", "replace")).decode("utf-8", "replace")
            elif {"B", "BASE64"} & set(encoding):
                continue  # photos and keys
            current.append((name, params, value))
    return cards


def _preferred(params: dict) -> bool:
    return "pref" in params.get("TYPE", []) or bool(params.get("PREF"))


def _phone_kind(params: dict) -> str:
    types = set(params.get("TYPE", []))
    if types & {"x-whatsapp", "whatsapp"}:
        return PhoneKind.WHATSAPP
    if types & {"cell", "mobile", "iphone"}:
        return PhoneKind.MOBILE
    if "work" in types:
        return PhoneKind.WORK
    if "home" in types:
        return PhoneKind.HOME
    return PhoneKind.OTHER if types - {"pref"} else PhoneKind.MOBILE


def _birthday(value: str) -> tuple[str, str]:
    """(ISO date, note) of a BDAY value; a birthday without a year becomes a note."""
    text = value.strip().split("T")[0]
    if text.startswith("--"):
        digits = text[2:].replace("-", "")
        return "", _("Birthday: %(day)s (no year)") % {"day": f"{digits[2:4]}/{digits[:2]}" if len(digits) == 4 else text}
    digits = text.replace("-", "")
    if re.fullmatch(r"\d{8}", digits):
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}", ""
    return text, ""


def table_headers() -> list[str]:
    return [_("First name"), _("Last name"), _("Full name"), _("Email"), _("Phone"), _("Company"), _("Job title"),
            _("City"), _("Region"), _("Country"), _("Tags"), _("Notes"), _("Birth date"), _("Gender")]


#: The import mapping of `table_headers` (column index -> import target).
TABLE_MAPPING = {"0": "first_name", "1": "last_name", "2": "full_name", "3": "email", "4": "phone", "5": "company",
                 "6": "job_title", "7": "city", "8": "region", "9": "country", "10": "tags", "11": "notes",
                 "12": "birth_date", "13": "gender"}


def card_row(card: list[tuple[str, dict, str]]) -> list:
    """One card as a row of `table_headers`: lists for emails, phones ("number (kind)") and tags."""
    first = last = full = company = title = city = region = country = birthday = gender = ""
    emails, phones, tags, notes = [], [], [], []
    address_seen = False
    for name, params, value in card:
        if name == "N":
            parts = [unescape(p).strip() for p in _split(value, ";")] + [""] * 5
            last = parts[0]
            first = " ".join(p for p in (parts[3], parts[1], parts[2]) if p)
            if parts[4]:
                last = f"{last} {parts[4]}".strip()
        elif name == "FN":
            full = unescape(value).strip()
        elif name == "EMAIL" and value.strip():
            emails.insert(len(emails) if not _preferred(params) else 0, value.strip().removeprefix("mailto:"))
        elif name == "TEL" and value.strip():
            number = re.sub(r"^tel:", "", value.strip(), flags=re.I).split(";")[0]
            phones.insert(len(phones) if not _preferred(params) else 0, f"{number} ({_phone_kind(params)})")
        elif name == "ORG":
            company = unescape(_split(value, ";")[0]).strip()
        elif name == "TITLE":
            title = unescape(value).strip()
        elif name == "ADR" and (not address_seen or _preferred(params)):
            parts = [unescape(p).strip() for p in _split(value, ";")] + [""] * 7
            city, region, country = parts[3], parts[4], parts[6]
            street = ", ".join(p for p in (parts[0], parts[1], parts[2], parts[5]) if p)
            if street:
                notes.append(_("Address: %(address)s") % {"address": street})
            address_seen = True
        elif name == "CATEGORIES":
            tags.extend(t for t in (unescape(p).strip() for p in _split(value, ",")) if t)
        elif name == "NOTE" and value.strip():
            notes.append(unescape(value).strip())
        elif name == "BDAY" and value.strip():
            birthday, note = _birthday(value)
            if note:
                notes.append(note)
        elif name == "GENDER" and value.strip():
            gender = _GENDERS_IN.get(_split(value, ";")[0].strip().lower(), "")
    return [first, last, full, emails, phones, company, title, city, region, country, tags, "\n\n".join(notes),
            birthday, gender]


def read_rows(data: bytes) -> list[list]:
    """A .vcf file as a table: `table_headers()` then one row per card."""
    return [table_headers(), *(card_row(card) for card in parse(data))]
