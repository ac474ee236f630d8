"""Global search over contacts and companies (the providers `ContactsConfig.ready` registers).

Both match on `search_text`, which the services keep: lower-case names (Bengali and/or Latin script),
emails and each phone's international and national digits for contacts; name, legal name and domain
for companies. A GIN trigram index (gin_trgm_ops) serves every condition below. How a query matches:

1. A phone number in any writing ("01712-345678", "+880 1712 345678", "০১৭১২৩৪৫৬৭৮"): its digits without
   the country code and trunk zero ("1712345678") as a substring, which both stored forms contain.
2. Words: every word of three or more characters as a substring (`LIKE '%word%'`): exact hits first.
3. When those are fewer than asked: every word with a letter fuzzily (`word <% search_text`: word
   similarity at least `WORD_SIMILARITY`, set for the transaction), so "rahmi" finds "Rahim" and one
   wrong letter in a Bengali name still matches; words of digits still as typed.
4. A query with no word of three characters: a prefix of `search_text` (the first name, as typed so far),
   alphabetically, served by the btree index `contacts_*_search_prefix` (C collation over its first 20 characters).

Every step starts from `visible_to(user)` and takes at most `CANDIDATES` rows straight off the index (a
LIMIT over the bitmap scan); only that candidate set is ordered by similarity, so a name shared by
20,000 contacts costs no more than a rare one. The visibility condition (`team_id`) is checked on the
same bitmap heap scan, never by a sequential scan.
"""

import re
import unicodedata

from django.contrib.postgres.search import TrigramStrictWordSimilarity
from django.db import connections, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate, Left
from django.urls import reverse

from contacts.models import Company, Contact
from contacts.normalise import ascii_digits, display_phone, looks_like_phone, search_key
from crm.search import SearchResult

#: pg_trgm's word similarity a fuzzy word must reach: one wrong letter in a 4–6 letter name scores 0.4.
WORD_SIMILARITY = 0.4
#: Rows taken off the trigram index before ordering by similarity (bounds the work for common names).
CANDIDATES = 200
#: Trigrams need three characters; shorter words take part in ordering only.
MIN_WORD_LENGTH = 3
#: How much of search_text the prefix index (one- and two-character queries) holds.
PREFIX_LENGTH = 20


# --- Reading the query --------------------------------------------------------------------------


def _word_char(char: str) -> bool:
    # pg_trgm's word characters: letters, digits and (for Bengali) the vowel signs and virama.
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _has_trigram(word: str) -> bool:
    run = 0
    for char in word:
        run = run + 1 if _word_char(char) else 0
        if run >= MIN_WORD_LENGTH:
            return True
    return False


def search_words(key: str) -> list[str]:
    """The words of a normalised query that a trigram index can look up (three word characters in a row)."""
    return [word for word in key.split() if _has_trigram(word)]


def trigram_words(key: str) -> list[str]:
    """The words pg_trgm itself sees (runs of word characters: `rahim.uddin@gmail` is three), three or longer."""
    words, run = [], ""
    for char in key + " ":
        if _word_char(char):
            run += char
            continue
        if len(run) >= MIN_WORD_LENGTH and run not in words:
            words.append(run)
        run = ""
    return words


def phone_digits(query: str) -> str | None:
    """For a phone-like query, the digit string every stored form of that number contains; else None.

    `+880 1712-345678`, `8801712345678`, `01712345678`, `০১৭১২৩৪৫৬৭৮` and `1712 345678` all give
    `1712345678` (country code and trunk zero dropped), part of both `8801712345678` and `01712345678`.
    A fragment too short once stripped (`017`) is searched as typed.
    """
    if not looks_like_phone(query):
        return None
    digits = re.sub(r"[^0-9]", "", ascii_digits(query))
    if digits.startswith("00"):
        digits = digits[2:]
    core = digits[3:] if digits.startswith("880") else digits
    core = core.lstrip("0")
    return core if len(core) >= MIN_WORD_LENGTH else digits


# --- The queries ------------------------------------------------------------------------------------


def _candidates(visible, condition: Q, exclude=()) -> RawSQL:
    """Ids of at most CANDIDATES visible rows matching `condition`, taken straight off the trigram index.

    MATERIALIZED makes PostgreSQL plan the match for the whole set (a bitmap scan of the trigram index,
    the team filtered on the heap) and still stop reading after CANDIDATES rows. With a bare LIMIT it bets
    on finding them early in a sequential scan, as it does not know each trigram comparison costs ~20 µs.
    """
    matching = visible.filter(condition).exclude(pk__in=list(exclude)).order_by().values("pk")
    sql, params = matching.query.sql_with_params()
    return RawSQL(f"WITH matches AS MATERIALIZED ({sql}) SELECT pk FROM matches LIMIT %s",  # noqa: S608, S611 (ORM-built)
                  (*params, CANDIDATES))


def _ranked(visible, condition: Q, key: str, limit: int, exclude=()):
    """The best `limit` of the candidates matching `condition`, by similarity to `key`.

    Strict word similarity compares whole words (plain word similarity lets "rahmi" score on the "mi r"
    of "mousumi rahman"); equals are newest first. One trigram function per candidate: ~20 µs each.
    """
    return (
        visible.filter(pk__in=_candidates(visible, condition, exclude))
        .annotate(similarity=TrigramStrictWordSimilarity(key, "search_text"))
        .order_by("-similarity", "-pk")[:limit]
    )


def _fuzzy(visible, words: list[str], key: str, limit: int, exclude) -> list:
    """Rows where every word with a letter is similar to part of search_text (`word <% search_text`) and
    every other word (digits: a number, a postcode) is in it as typed.

    Each word on its own: as one string, "nusrat jahn" would match every "Nusrat" and "@gmail.com" every
    company with a ".com" domain, half their trigrams being enough.
    """
    condition = Q()
    for word in words:
        if _has_letter(word):
            condition &= Q(search_text__trigram_word_similar=word)
        else:
            condition &= Q(search_text__contains=word)
    with transaction.atomic(using=visible.db, savepoint=False):
        with connections[visible.db].cursor() as cursor:
            # SET LOCAL: the threshold of the `<%` operator, for this transaction only. pg_trgm prices `<%` at a
            # fixed few per cent of the table and the planner costs the whole candidate CTE, not the LIMIT that
            # stops it early, so on a mid-sized table it may pick a full read; the trigram index is never worse.
            cursor.execute("SELECT current_setting('enable_seqscan'), "
                           "set_config('pg_trgm.word_similarity_threshold', %s, true), "
                           "set_config('enable_seqscan', 'off', true)", [str(WORD_SIMILARITY)])
            seqscan = cursor.fetchone()[0]
            found = list(_ranked(visible, condition, key, limit, exclude))
            # An enclosing transaction (a test, a caller's atomic block) goes on with its own setting.
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [seqscan])
        return found


def _has_letter(word: str) -> bool:
    return any(char.isalpha() for char in word)


def _prefix(visible, key: str, limit: int) -> list:
    """Rows whose search_text starts with `key` (1–2 characters typed), alphabetically (the index's order)."""
    rows = visible.alias(prefix=Collate(Left("search_text", PREFIX_LENGTH), "C")).filter(
        prefix__startswith=key[:PREFIX_LENGTH])
    if len(key) > PREFIX_LENGTH:  # (words of one or two letters only) the rest is checked on the row
        rows = rows.filter(search_text__startswith=key)
    return list(rows.order_by("prefix", "pk")[:limit])


def find(visible, query: str, limit: int) -> list:
    """The best `limit` rows of `visible` for `query`: exact substrings first, then fuzzy words (see above)."""
    key = search_key(query)
    digits = phone_digits(key) if visible.model is Contact else None
    if digits:
        return list(_ranked(visible, Q(search_text__contains=digits), digits, limit))
    words = search_words(key)
    if not words:
        return _prefix(visible, key, limit)
    exact = Q()
    for word in words:
        exact &= Q(search_text__contains=word)
    found = list(_ranked(visible, exact, key, limit))
    fuzzy_words = trigram_words(key)
    if len(found) < limit and any(_has_letter(word) for word in fuzzy_words):  # digits are mistyped, not misspelt
        found += _fuzzy(visible, fuzzy_words, key, limit - len(found), exclude=[row.pk for row in found])
    return found


# --- The providers ------------------------------------------------------------------------------


def contact_results(user, query: str, limit: int) -> list[SearchResult]:
    """Contacts `user` may see, best match first: name, company · email · phone."""
    visible = Contact.objects.visible_to(user).select_related("company")
    return [
        SearchResult(
            id=contact.pk, kind="contact", title=str(contact), url=reverse("contacts:contact", args=[contact.pk]),
            subtitle=" · ".join(part for part in (
                contact.company.name if contact.company and not contact.company.is_deleted else "",
                contact.email, display_phone(contact.phone),
            ) if part),
        )
        for contact in find(visible, query, limit)
    ]


def company_results(user, query: str, limit: int) -> list[SearchResult]:
    """Companies `user` may see, best match first: name, domain · city."""
    return [
        SearchResult(
            id=company.pk, kind="company", title=company.name, url=reverse("contacts:company", args=[company.pk]),
            subtitle=" · ".join(part for part in (company.domain, company.city) if part),
        )
        for company in find(Company.objects.visible_to(user), query, limit)
    ]
