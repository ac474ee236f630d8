"""Ticket numbers come from a sequence (sequential, unique, never reused); a ticket's type, status or contact
changing marks its contact for a lead-score rescore (the `open_complaints` rule), like orders do (sales 0004)."""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE IF NOT EXISTS support_ticket_number_seq START 1001;
CREATE TRIGGER support_score_dirty_ticket AFTER INSERT OR DELETE OR UPDATE OF status, type, contact_id
  ON support_ticket FOR EACH ROW EXECUTE FUNCTION sales_score_dirty_child();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS support_score_dirty_ticket ON support_ticket;
DROP SEQUENCE IF EXISTS support_ticket_number_seq;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0001_initial"),
        ("sales", "0004_score_dirty_triggers"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
