"""Signals the contacts app sends for writes that save no model one by one."""

from django.dispatch import Signal

#: Sent (sender: the model) after contacts, or what belongs to them (tags), were written in bulk:
#: `bulk_create` and `QuerySet.update` send no post_save, so a listener that wants to hear of every change
#: (lead scoring wakes its worker) listens here too, instead of waiting for its periodic check.
contacts_changed = Signal()
