"""Triggers that mark a contact's score stale in the transaction of the change, whatever made it.

A change of a contact's scorable fields, its interactions, tags or orders, or its company's scorable
fields, writes (or refreshes) a `sales_scoredirty` row. ON CONFLICT DO UPDATE, not DO NOTHING: while a
rescore holds the row (SELECT ... FOR UPDATE), a new change waits and then writes a fresh row, so a
change made during a rescore is never swallowed. A rolled-back change leaves no row.
The column lists must cover `sales.scoring.rules.CONTACT_COLUMNS`/`COMPANY_COLUMNS` (a test checks).
"""

from django.db import migrations

CONTACT_COLUMNS = [
    "age_band", "city", "company_id", "country", "deleted_at", "do_not_contact", "email", "email_opt_in", "gender",
    "income_band", "job_title", "lifecycle_stage", "phone", "phone_opt_in", "preferred_channel", "project_budget",
    "project_type", "region", "sms_opt_in", "source",
]
COMPANY_COLUMNS = ["city", "country", "industry", "region", "size_band"]

MARK = """
CREATE OR REPLACE FUNCTION sales_mark_score_dirty(contact bigint) RETURNS void AS $$
BEGIN
  IF contact IS NOT NULL THEN
    INSERT INTO sales_scoredirty (contact_id, marked_at) VALUES (contact, clock_timestamp())
    ON CONFLICT (contact_id) DO UPDATE SET marked_at = EXCLUDED.marked_at;
  END IF;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION sales_score_dirty_contact() RETURNS trigger AS $$
BEGIN
  PERFORM sales_mark_score_dirty(NEW.id);
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION sales_score_dirty_child() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM sales_mark_score_dirty(NEW.contact_id);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.contact_id IS DISTINCT FROM NEW.contact_id) THEN
    PERFORM sales_mark_score_dirty(OLD.contact_id);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION sales_score_dirty_company() RETURNS trigger AS $$
BEGIN
  INSERT INTO sales_scoredirty (contact_id, marked_at)
  SELECT c.id, clock_timestamp() FROM contacts_contact c WHERE c.company_id = NEW.id
  ON CONFLICT (contact_id) DO UPDATE SET marked_at = EXCLUDED.marked_at;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER sales_score_dirty_contact_insert AFTER INSERT ON contacts_contact
  FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_contact();
CREATE TRIGGER sales_score_dirty_contact_update AFTER UPDATE OF {contact_columns} ON contacts_contact
  FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_contact();
CREATE TRIGGER sales_score_dirty_interaction AFTER INSERT OR UPDATE OR DELETE ON contacts_interaction
  FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_child();
CREATE TRIGGER sales_score_dirty_tag AFTER INSERT OR UPDATE OR DELETE ON contacts_contacttag
  FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_child();
CREATE TRIGGER sales_score_dirty_order AFTER INSERT OR UPDATE OR DELETE ON sales_order
  FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_child();
CREATE TRIGGER sales_score_dirty_company AFTER UPDATE OF {company_columns} ON contacts_company
  FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_company();
""".format(contact_columns=", ".join(CONTACT_COLUMNS), company_columns=", ".join(COMPANY_COLUMNS))

UNMARK = """
DROP TRIGGER IF EXISTS sales_score_dirty_contact_insert ON contacts_contact;
DROP TRIGGER IF EXISTS sales_score_dirty_contact_update ON contacts_contact;
DROP TRIGGER IF EXISTS sales_score_dirty_interaction ON contacts_interaction;
DROP TRIGGER IF EXISTS sales_score_dirty_tag ON contacts_contacttag;
DROP TRIGGER IF EXISTS sales_score_dirty_order ON sales_order;
DROP TRIGGER IF EXISTS sales_score_dirty_company ON contacts_company;
DROP FUNCTION IF EXISTS sales_score_dirty_company();
DROP FUNCTION IF EXISTS sales_score_dirty_child();
DROP FUNCTION IF EXISTS sales_score_dirty_contact();
DROP FUNCTION IF EXISTS sales_mark_score_dirty(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0003_lead_scoring"),
        ("contacts", "0003_lead_score"),
    ]

    operations = [migrations.RunSQL(MARK, UNMARK)]
