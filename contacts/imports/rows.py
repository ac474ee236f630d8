"""Turning one row of the file into what a contact gets (or why it cannot), without touching the database."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts import services
from contacts.imports.mapping import PHONE_TARGETS
from contacts.imports.reading import _blank
from contacts.models import Channel, Contact, Gender, LifecycleStage, PhoneKind, Source
from contacts.normalise import ascii_digits

ROW = ""  # the errors key of a problem with the whole row rather than one column


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
