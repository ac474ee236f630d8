"""Normal forms of what people type: phone numbers (E.164), emails, website domains, Bengali digits.

One place, used by the services, the import, the API and search, so that `01712-345678`,
`+880 1712 345678` and `০১৭১২৩৪৫৬৭৮` are the same number everywhere.
"""

import re
from urllib.parse import urlsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

DEFAULT_REGION = "BD"
_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]+$")


def ascii_digits(text: str) -> str:
    """Bengali digits to ASCII ones (`০১৭১২` -> `01712`); everything else unchanged."""
    return text.translate(_BENGALI_DIGITS)


def looks_like_phone(text: str) -> bool:
    text = ascii_digits(text.strip())
    return bool(text) and bool(_PHONE_CHARS.match(text)) and sum(c.isdigit() for c in text) >= 3


def normalise_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of a phone number (`+8801712345678`); ValidationError when it is not one."""
    text = ascii_digits(str(raw or "").strip())
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("“%(value)s” is not a phone number."), code="invalid", params={"value": raw}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” is not a valid phone number."), code="invalid", params={"value": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_forms(e164: str) -> list[str]:
    """Digit strings a user may type for a stored number: international and national (`8801712…`, `01712…`)."""
    digits = e164.lstrip("+")
    forms = [digits]
    try:
        national = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return forms
    national_digits = re.sub(r"\D", "", national)
    if national_digits and national_digits != digits:
        forms.append(national_digits)
    return forms


def display_phone(e164: str) -> str:
    """A stored number as people write it: national for local numbers, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if region == DEFAULT_REGION else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def normalise_email(raw: str) -> str:
    """A trimmed, lower-cased, valid email address; ValidationError otherwise."""
    email = str(raw or "").strip().lower()
    if not email:
        raise ValidationError(_("Enter an email address."), code="required")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("“%(value)s” is not an email address."), code="invalid", params={"value": raw}) from None
    return email


def website_domain(website: str) -> str:
    """The host of a website without scheme, port, path or `www.` (`https://www.Example.com/x` -> `example.com`)."""
    text = str(website or "").strip().lower()
    if not text:
        return ""
    if "://" not in text:
        text = "http://" + text
    host = (urlsplit(text).hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host or "." not in host or not re.match(r"^[a-z0-9.\-\u0980-\u09ff]+$", host):
        raise ValidationError(_("“%(value)s” is not a website address."), code="invalid", params={"value": website})
    return host


def search_key(text: str) -> str:
    """How search text is compared: lower case, ASCII digits, single spaces."""
    return " ".join(ascii_digits(str(text)).lower().split())
