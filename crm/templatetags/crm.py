"""Formatting for the UI: dates in the user's time zone, numbers and money by locale.

Bengali pages show Bengali digits (০-৯): neither Django nor Babel produce them server-side.
"""

from decimal import Decimal

from babel.numbers import format_currency
from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import formats, timezone, translation

register = template.Library()

BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
BABEL_LOCALES = {"bn": "bn_BD", "en": "en_US"}


def localize_digits(text: str) -> str:
    """Latin digits to Bengali ones when the active language is Bengali."""
    if translation.get_language() == "bn":
        return str(text).translate(BENGALI_DIGITS)
    return str(text)


@register.filter
def digits(value):
    return localize_digits(value)


@register.filter
def number(value, decimal_places=None):
    """A number grouped for the active language (lakh grouping in Bengali)."""
    if value in (None, ""):
        return ""
    text = formats.number_format(value, decimal_pos=decimal_places, use_l10n=True, force_grouping=True)
    return localize_digits(text)


@register.filter
def money(value, currency=None):
    """An amount with its currency symbol for the active language: ৳12,34,567.50 / ১২,৩৪,৫৬৭.৫০৳."""
    if value in (None, ""):
        return ""
    from django.conf import settings

    lang = translation.get_language() or "en"
    text = format_currency(Decimal(value), currency or settings.DEFAULT_CURRENCY,
                           locale=BABEL_LOCALES.get(lang, "en_US"))
    return localize_digits(text)


@register.filter
def localdt(value, fmt="DATETIME_FORMAT"):
    """A date-time in the user's time zone and language."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return localize_digits(date_filter(value, fmt))
