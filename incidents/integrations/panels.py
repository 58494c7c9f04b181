"""The incident-page panel: the incident's alerts and the runbooks that apply."""

from . import selectors


def incident_alerts(request, incident):
    alerts = selectors.incident_alerts(incident)
    runbooks, runbook_links = selectors.runbooks_for(incident, alerts)
    if not alerts and not runbooks:
        return None
    return {
        "incident": incident,
        "alerts": alerts,
        "open_count": sum(1 for a in alerts if a.is_open),
        "runbooks": runbooks,
        "runbook_links": runbook_links,
    }
