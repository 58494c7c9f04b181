"""Staff pages: integrations (endpoint, copy-ready configuration, test alert, recent alerts with
their raw payloads) and runbooks. Views read through selectors and act through services."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.audit import audit_history
from incidents.exceptions import DomainError

from . import forms, selectors, services
from .api.serializers import KEY_PLACEHOLDER, endpoint_url
from .models import Integration, IntegrationKind, Runbook

SESSION_KEY = "integrations.new_key"


def _get(public_id) -> Integration:
    try:
        return selectors.integration_detail(public_id)
    except (Integration.DoesNotExist, ValueError):
        raise Http404("No such integration") from None


def integration_list(request):
    return render(request, "integrations/list.html", {"integrations": selectors.integration_list()})


def integration_create(request):
    form = forms.IntegrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        kind = data.pop("kind")
        if not data.get("severity_rules"):
            data.pop("severity_rules")
        try:
            integration, key = services.integration_create(
                name=data.pop("name"), service=data.pop("service"), kind=kind, by=request.user, **data,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            request.session[SESSION_KEY] = {"id": str(integration.public_id), "key": key}
            messages.success(request, "Integration created. Copy its key now: it is shown only once.")
            return redirect(integration)
    return render(request, "integrations/form.html", {"form": form, "title": "New integration"})


def integration_edit(request, public_id):
    integration = _get(public_id)
    heartbeat = getattr(integration, "heartbeat", None) if integration.kind == IntegrationKind.HEARTBEAT else None
    initial = {f: getattr(integration, f) for f in services.EDITABLE}
    if heartbeat:
        initial.update(heartbeat_interval=heartbeat.interval, heartbeat_grace=heartbeat.grace)
    form = forms.IntegrationForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if integration.kind != IntegrationKind.HEARTBEAT:
            data.pop("heartbeat_interval"), data.pop("heartbeat_grace")
        try:
            services.integration_update(integration=integration, by=request.user, **data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Integration saved.")
            return redirect(integration)
    return render(request, "integrations/form.html", {"form": form, "title": f"Edit {integration.name}", "integration": integration})


def _snippets(integration: Integration, key: str) -> dict:
    url = endpoint_url(integration, key)
    if integration.kind == IntegrationKind.ALERTMANAGER:
        return {"Alertmanager (alertmanager.yml)": (
            "route:\n  receiver: incident-portal\n  group_by: ['alertname', 'service']\n"
            "  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 4h\n\n"
            "receivers:\n  - name: incident-portal\n    webhook_configs:\n"
            f"      - url: '{url}'\n        send_resolved: true\n        max_alerts: 0\n"
        )}
    if integration.kind == IntegrationKind.PAGERDUTY:
        base = url.rsplit("/v2/enqueue", 1)[0]
        return {
            "Python (pip install pagerduty)": (
                "import pagerduty\n\n"
                f"client = pagerduty.EventsApiV2Client('{key}', base_url='{base}')\n"
                "dedup_key = client.trigger('Disk full on db-1', 'db-1.example.com', severity='critical')\n"
                "client.acknowledge(dedup_key)\nclient.resolve(dedup_key)\n"
            ),
            "curl": (
                f"curl -X POST '{url}' -H 'Content-Type: application/json' -d '"
                + json.dumps({"routing_key": key, "event_action": "trigger", "dedup_key": "db-1-disk",
                              "payload": {"summary": "Disk full on db-1", "source": "db-1.example.com", "severity": "critical"}})
                + "'\n"
            ),
            "Any PagerDuty sender (Datadog, Grafana, Sentry...)": f"Events API v2 URL: {url}\nIntegration / routing key: {key}\n",
        }
    if integration.kind == IntegrationKind.HEARTBEAT:
        return {"cron": f"*/5 * * * * root /usr/local/bin/backup && curl -fsS -m 10 --retry 3 '{url}' >/dev/null\n"}
    example = {integration.mapping[k]: v for k, v in (("title", "Queue depth above 10k"), ("status", "firing"), ("fingerprint", "queue-depth"), ("severity", "critical"))}
    return {"curl": f"curl -X POST '{url}' -H 'Content-Type: application/json' -d '{json.dumps(example)}'\n"}


def integration_detail(request, public_id):
    integration = _get(public_id)
    shown = request.session.pop(SESSION_KEY, None)
    new_key = shown["key"] if shown and shown.get("id") == str(integration.public_id) else None
    key = new_key or KEY_PLACEHOLDER
    alerts = list(selectors.recent_alerts(integration))
    for alert in alerts:
        alert.payload_json = json.dumps(alert.payload, indent=2, sort_keys=True)
    return render(request, "integrations/detail.html", {
        "integration": integration,
        "heartbeat": getattr(integration, "heartbeat", None) if integration.kind == IntegrationKind.HEARTBEAT else None,
        "new_key": new_key,
        "placeholder": KEY_PLACEHOLDER,
        "rules": [
            (", ".join(f"{name} = {' | '.join(map(str, v)) if isinstance(v, list) else v}" for name, v in rule["match"].items()), rule["severity"])
            for rule in integration.severity_rules
        ],
        "endpoint": endpoint_url(integration, key),
        "snippets": _snippets(integration, key),
        "alerts": alerts,
        "windows": integration.maintenance_windows.all()[:10],
        "maintenance": services.maintenance_reason(integration, timezone.now()),
        "test_form": forms.TestAlertForm(),
        "window_form": forms.MaintenanceWindowForm(),
        "history": audit_history(integration),
    })


@require_POST
def integration_test_alert(request, public_id):
    integration = _get(public_id)
    form = forms.TestAlertForm(request.POST)
    form.is_valid()
    alert = services.integration_send_test_alert(integration=integration, by=request.user, open_incident=form.cleaned_data.get("open_incident", False))
    if alert.incident_id:
        messages.success(request, f"Test alert received; it opened or joined {alert.incident.number}.")
    else:
        messages.success(request, "Test alert received and recorded (suppressed: it pages nobody).")
    return redirect(integration)


@require_POST
def integration_rotate(request, public_id):
    integration = _get(public_id)
    try:
        key = services.integration_rotate_key(integration=integration, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(integration)
    request.session[SESSION_KEY] = {"id": str(integration.public_id), "key": key}
    messages.success(request, "New key issued; the old one no longer works. Copy it now: it is shown only once.")
    return redirect(integration)


@require_POST
def integration_revoke(request, public_id):
    integration = _get(public_id)
    try:
        services.integration_revoke(integration=integration, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Integration revoked: its endpoint now answers 404.")
    return redirect(integration)


@require_POST
def integration_window(request, public_id):
    integration = _get(public_id)
    form = forms.MaintenanceWindowForm(request.POST)
    if form.is_valid():
        try:
            services.integration_maintenance_create(integration=integration, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Maintenance window added.")
    else:
        messages.error(request, "Give a start and an end for the window.")
    return redirect(integration)


def runbook_list(request):
    return render(request, "integrations/runbooks.html", {"runbooks": Runbook.objects.prefetch_related("services")})


def runbook_detail(request, identifier):
    runbook = Runbook.objects.prefetch_related("services").filter(identifier=identifier).first()
    if runbook is None:
        raise Http404("No such runbook")
    return render(request, "integrations/runbook.html", {"runbook": runbook})
