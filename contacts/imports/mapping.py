"""Which column becomes what: the import targets, guessing them from header names (English or Bengali), checking a mapping."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import PhoneKind

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
