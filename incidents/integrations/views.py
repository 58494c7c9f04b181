"""Staff pages: integrations (endpoint, copy-ready configuration, test alert, recent alerts with
their raw payloads) and runbooks. Views read through selectors and act through services."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents import rows
from incidents.audit import audit_history
from incidents.exceptions import DomainError

from . import forms, selectors
from .api.serializers import KEY_PLACEHOLDER, endpoint_url
from .models import Integration, IntegrationKind, Runbook, hash_key
from .services import configuration, ingest

SESSION_KEY = "integrations.new_key"


def _remember_key(request, integration: Integration, key: str) -> None:
    """The new key stays in this person's session, shown on the integration's page until they
    confirm they copied it (a reload or a look elsewhere does not lose it)."""
    request.session[SESSION_KEY] = {"id": str(integration.public_id), "key": key}


def _unconfirmed_key(request, integration: Integration) -> str | None:
    """The key waiting for confirmation, if it is this integration's current one (a key that was
    rotated again since, by anyone, is dropped: it no longer works)."""
    shown = request.session.get(SESSION_KEY)
    if not shown or shown.get("id") != str(integration.public_id):
        return None
    key = shown.get("key") or ""
    if hash_key(key) != integration.key_hash or integration.revoked_at:
        request.session.pop(SESSION_KEY, None)
        return None
    return key


def _get(public_id) -> Integration:
    try:
        return selectors.integration_detail(public_id)
    except (Integration.DoesNotExist, ValueError):
        raise Http404("No such integration") from None


def integration_list(request):
    return render(request, "integrations/list.html", {"integrations": selectors.integration_list()})


def _editors(data, integration: Integration | None = None) -> dict:
    """The structured editors of an integration's rules, grouping and field mapping (JSON stays
    the API's)."""
    initial = integration or Integration(field_mapping={})
    return {
        "rules": forms.RuleFormSet(data, prefix="rules", initial=None if data else forms.rule_rows(initial.severity_rules)),
        "group": forms.GroupFormSet(data, prefix="group", initial=None if data else [{"label": g} for g in initial.group_by or ()]),
        "mapping": forms.FieldMappingForm(data, prefix="map", initial=initial.field_mapping or {}),
    }


ROW_EDITORS = {"rules": forms.RuleFormSet, "group": forms.GroupFormSet}


def _integration_form(request, integration: Integration | None = None):
    """Create or edit: the settings form and the row editors. A row button (add, remove) without
    scripts comes back here and shows the rows rearranged, unsaved."""
    editing = integration is not None
    data = request.POST if request.method == "POST" else None
    op = rows.requested_op(data)
    if op:
        prefix = rows.op_prefix(op)
        data = rows.apply_row_op(data, ROW_EDITORS[prefix], prefix) if prefix in ROW_EDITORS else None
        data = data if data is not None else request.POST
    initial = {}
    if editing:
        initial = {f: getattr(integration, f) for f in configuration.EDITABLE}
        heartbeat = getattr(integration, "heartbeat", None) if integration.kind == IntegrationKind.HEARTBEAT else None
        if heartbeat:
            initial.update(heartbeat_interval=heartbeat.interval, heartbeat_grace=heartbeat.grace)
    form = forms.IntegrationForm(data, initial=initial, editing=editing, kind=integration.kind if editing else None)
    editors = _editors(data, integration)
    context = {"form": form, **editors, "integration": integration,
               "title": f"Edit {integration.name}" if editing else "New integration"}
    if op:
        rows.quiet(form, *editors.values())
        return render(request, "integrations/form.html", context)
    if data is None:
        return render(request, "integrations/form.html", context)
    valid = [f.is_valid() for f in (form, *editors.values())]
    if all(valid):
        config = dict(form.cleaned_data, severity_rules=editors["rules"].rules(), group_by=editors["group"].labels(),
                      field_mapping=editors["mapping"].mapping())
        try:
            if editing:
                configuration.integration_update(integration=integration, by=request.user, **config)
            else:
                kind = config.pop("kind")
                if not config["severity_rules"]:
                    config.pop("severity_rules")  # Alertmanager and PagerDuty: the standard mapping
                integration, key = configuration.integration_create(
                    name=config.pop("name"), service=config.pop("service"), kind=kind, by=request.user, **config)
        except DomainError as exc:
            _domain_error(exc, form, editors)
        else:
            if editing:
                messages.success(request, "Integration saved.")
            else:
                _remember_key(request, integration, key)
                messages.success(request, "Integration created. Copy its key now: once you confirm you copied it, it is never shown again.")
            return redirect(integration)
    return render(request, "integrations/form.html", context, status=400)


def _domain_error(exc: DomainError, form, editors: dict) -> None:
    where = {"severity_rules": editors["rules"], "group_by": editors["group"]}.get(exc.field)
    if where is not None:
        where._non_form_errors = where.error_class([exc.message], error_class="nonform")
    elif exc.field == "field_mapping":
        editors["mapping"].add_error(None, exc.message)
    else:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def integration_create(request):
    return _integration_form(request)


def integration_edit(request, public_id):
    return _integration_form(request, _get(public_id))


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
    new_key = _unconfirmed_key(request, integration)
    key = new_key or KEY_PLACEHOLDER
    alerts = list(selectors.recent_alerts(integration, request.user))
    for alert in alerts:
        alert.payload_json = json.dumps(alert.payload, indent=2, sort_keys=True)
    response = render(request, "integrations/detail.html", {
        "integration": integration,
        "heartbeat": getattr(integration, "heartbeat", None) if integration.kind == IntegrationKind.HEARTBEAT else None,
        "new_key": new_key,
        "placeholder": KEY_PLACEHOLDER,
        "rules": [
            (" and ".join(f"{name} = {' or '.join(map(str, v)) if isinstance(v, list) else v}" for name, v in rule["match"].items()), rule["severity"])
            for rule in integration.severity_rules
        ],
        "endpoint": endpoint_url(integration, key),
        "snippets": _snippets(integration, key),
        "alerts": alerts,
        "windows": integration.maintenance_windows.all()[:10],
        "maintenance": ingest.maintenance_reason(integration, timezone.now()),
        "test_form": forms.TestAlertForm(),
        "window_form": forms.MaintenanceWindowForm(),
        "history": audit_history(integration),
    })
    if new_key:
        response["Cache-Control"] = "no-store, private"  # the key must not outlive the confirmation in a cache
    return response


@require_POST
def integration_test_alert(request, public_id):
    integration = _get(public_id)
    form = forms.TestAlertForm(request.POST)
    form.is_valid()
    alert = ingest.integration_send_test_alert(integration=integration, by=request.user, open_incident=form.cleaned_data.get("open_incident", False))
    if alert.incident_id:
        messages.success(request, f"Test alert received; it opened or joined {alert.incident.number}.")
    else:
        messages.success(request, "Test alert received and recorded (suppressed: it pages nobody).")
    return redirect(integration)


@require_POST
def integration_rotate(request, public_id):
    integration = _get(public_id)
    try:
        key = configuration.integration_rotate_key(integration=integration, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(integration)
    _remember_key(request, integration, key)
    messages.success(request, "New key issued; the old one no longer works. Copy it now: once you confirm you copied it, it is never shown again.")
    return redirect(integration)


@require_POST
def integration_key_copied(request, public_id):
    """The person confirms they copied the new key: it leaves their session for good."""
    integration = _get(public_id)
    shown = request.session.get(SESSION_KEY)
    if shown and shown.get("id") == str(integration.public_id):
        request.session.pop(SESSION_KEY)
        messages.success(request, "Key hidden for good: only its first characters are shown from now on.")
    return redirect(integration)


@require_POST
def integration_revoke(request, public_id):
    integration = _get(public_id)
    try:
        configuration.integration_revoke(integration=integration, by=request.user)
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
            configuration.integration_maintenance_create(integration=integration, by=request.user, **form.cleaned_data)
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
