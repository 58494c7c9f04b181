"""Saving runbooks (audited)."""

from django.db import transaction

from incidents.audit import audit_record
from incidents.exceptions import InvalidInput

from ..models import Runbook

RUNBOOK_FIELDS = ("title", "prerequisites", "steps", "rollback", "time_estimate", "last_reviewed", "url", "match_labels")


@transaction.atomic
def runbook_save(*, runbook: Runbook | None = None, identifier: str | None = None, services=None, by=None, **values) -> Runbook:
    unknown = set(values) - set(RUNBOOK_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    labels = values.get("match_labels")
    if labels is not None and (not isinstance(labels, dict) or not all(isinstance(v, (str, int, float)) for v in labels.values())):
        raise InvalidInput("Match labels must be an object of label values.", field="match_labels")
    action = "changed" if runbook is not None else "added"
    runbook = runbook or Runbook()
    if identifier is not None:
        runbook.identifier = identifier.strip().upper()
    for name, value in values.items():
        setattr(runbook, name, value)
    runbook.full_clean(exclude=["services"])
    runbook.save()
    if services is not None:
        runbook.services.set(services)
    audit_record(by=by, obj=runbook, action=action, message=", ".join(sorted(values)))
    return runbook
