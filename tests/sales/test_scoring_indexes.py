"""The tables a scoring run rewrites carry no index that another index already serves.

A score change is never a HOT update (the score is indexed for sorting), so each changed contact row costs
one entry in every index of contacts_contact; a redundant index there is paid for on every nightly run.
"""

import pytest
from django.db import connection

SCORED_TABLES = ["contacts_contact", "contacts_company", "sales_scoreexplanation", "sales_scorehistory"]


def _indexes(table: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, am.amname, i.indisunique, i.indkey::int2[], i.indoption::int2[], i.indclass::oid[],
                   i.indcollation::oid[], i.indexprs IS NOT NULL, pg_get_expr(i.indpred, i.indrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = %s::regclass
            """,
            [table],
        )
        rows = cursor.fetchall()
    return [{"name": name, "method": method, "unique": unique, "expressions": expressions, "predicate": predicate,
             "columns": list(zip(keys, options, classes, collations, strict=True))}
            for name, method, unique, keys, options, classes, collations, expressions, predicate in rows]


def redundant_indexes(table: str) -> list[tuple[str, str]]:
    """(index, covered by): a plain b-tree whose columns (order and operator class alike) lead another b-tree
    with the same condition, so every lookup it serves the other serves too."""
    found = []
    indexes = [i for i in _indexes(table) if i["method"] == "btree" and not i["expressions"]]
    for small in indexes:
        if small["unique"]:
            continue
        for big in indexes:
            if big is small or big["predicate"] != small["predicate"]:
                continue
            width = len(small["columns"])
            leads = width <= len(big["columns"]) and big["columns"][:width] == small["columns"]
            # Of two identical plain indexes, the one later by name is reported, once.
            if leads and (width < len(big["columns"]) or big["unique"] or big["name"] < small["name"]):
                found.append((small["name"], big["name"]))
                break
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("table", SCORED_TABLES)
def test_no_index_of_a_scored_table_is_redundant(table):
    assert redundant_indexes(table) == []


@pytest.mark.django_db
def test_the_redundancy_check_finds_a_duplicate_and_a_covered_prefix():
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX test_dup_company ON contacts_contact (company_id)")
        cursor.execute("CREATE INDEX test_history_contact ON sales_scorehistory (contact_id)")
    assert ("test_dup_company", "contacts_contact_company") in redundant_indexes("contacts_contact")
    assert redundant_indexes("sales_scorehistory") == [("test_history_contact", "sales_scorehistory_unique")]
