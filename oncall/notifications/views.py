"""Staff pages for contact methods, rules, deliveries and subscriptions, and the public
acknowledge page behind the links in notifications."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from delivery.models import DeliveryStatus
from incidents import services as incident_services
from incidents.audit import audit_history
from incidents.exceptions import DomainError
from incidents.rules import may_act_for, may_read_secret

from .. import workhours
from . import selectors, services
from .ack import AckNotAllowed, InvalidAckLink, ack_read, action_read
from .forms import ContactMethodForm, RuleForm, SubscriptionForm
from .models import TOKEN_KINDS, ContactMethod, NotificationRule, RuleUrgency, StakeholderSubscription
from .services import notifications_act

User = get_user_model()
MANAGE_ANY = "notifications.manage_any_contactmethod"


# --- the acknowledge link ------------------------------------------------------------------


@never_cache
def acknowledge(request, token):
    """GET shows who acknowledges what (and changes nothing: mail scanners fetch links);
    POST acknowledges. The page's script submits the form on open, so it is one click."""
    try:
        grant = ack_read(token)
    except AckNotAllowed as exc:
        return render(request, "notifications/ack.html", {"error": str(exc)}, status=403)
    except InvalidAckLink as exc:
        return render(request, "notifications/ack.html", {"error": str(exc)}, status=400 if request.method == "POST" else 200)
    incident, person = grant.incident, grant.user
    done = None
    if request.method == "POST":
        try:
            incident_services.incident_acknowledge(incident=incident, by=person, via="acknowledge link")
        except DomainError as exc:
            incident.refresh_from_db()
            done = {"ok": False, "message": exc.message}
        else:
            incident.refresh_from_db()
            done = {"ok": True, "message": f"{incident.number} acknowledged as {person.get_full_name() or person.username}."}
    return render(request, "notifications/ack.html", {
        "incident": incident, "person": person, "done": done,
        "needs_ack": selectors.awaiting_acknowledgement(incident),
    })


def _text(message: str, status: int = 200) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # the signed, expiring token is the credential; a phone app POSTs it with no session
@never_cache
def action(request, token):
    """A one-tap action from a notification (ntfy's action buttons): POST acknowledges or resolves
    as the person the token names, through the incident services; GET changes nothing."""
    try:
        grant, verb = action_read(token)
    except AckNotAllowed as exc:
        return _text(str(exc), 403)
    except InvalidAckLink as exc:
        return _text(str(exc), 400)
    incident, person = grant.incident, grant.user
    if request.method != "POST":
        return _text(f"POST to {verb} {incident.number} as {person.get_full_name() or person.username}.")
    try:
        notifications_act(incident=incident, person=person, verb=verb, via="push notification")
    except DomainError as exc:
        return _text(exc.message, 409)
    return _text(f"{incident.number} {'acknowledged' if verb == 'acknowledge' else 'resolved'} as "
                 f"{person.get_full_name() or person.username}.")


# --- people's contact methods and rules ------------------------------------------------------


def _person_or_403(request, user_id, model=ContactMethod):
    """The person whose `model` rows the request acts on: yourself, or anyone with the manage-any
    permission (incidents.rules.OWNED, the rule the API applies too)."""
    if not str(user_id).isdigit():
        raise Http404("No such person")
    person = get_object_or_404(User, pk=user_id)
    if not may_act_for(request.user, person.pk, model._meta.label_lower):
        raise PermissionDenied
    return person


def _method_or_403(request, public_id) -> ContactMethod:
    method = get_object_or_404(ContactMethod.objects.select_related("user"), public_id=public_id)
    _person_or_403(request, method.user_id)
    return method


def _form_error(form, exc: DomainError):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def my_notifications(request):
    user_id = request.GET.get("user", "")
    return redirect("notifications:person", user_id=int(user_id) if user_id.isdecimal() and len(user_id) <= 18 else request.user.pk)


def person_settings(request, user_id):
    person = _person_or_403(request, user_id)
    return _render_person(request, person)


def _render_person(request, person, method_form=None, rule_form=None, status=200):
    rules = list(selectors.rules_for(person))
    return render(request, "notifications/person.html", {
        "person": person,
        "is_self": person.pk == request.user.pk,
        "methods": selectors.contact_methods_for(person),
        "high_rules": [rule for rule in rules if rule.urgency == RuleUrgency.HIGH],
        "low_rules": [rule for rule in rules if rule.urgency == RuleUrgency.LOW],
        "working_hours": workhours.for_person(person),
        "method_form": method_form or ContactMethodForm(),
        "rule_form": rule_form or RuleForm(user=person),
        "recent": selectors.notification_list(viewer=request.user, user=person)[:20],
        "people": User.objects.filter(is_active=True).order_by("username") if request.user.has_perm(MANAGE_ANY) else None,
        "history": audit_history(person),
    }, status=status)


@require_POST
def method_create(request):
    person = _person_or_403(request, request.POST.get("user") or request.user.pk)
    form = ContactMethodForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            method = services.contact_method_create(
                user=person, kind=data["kind"], target=data["target"], label=data["label"],
                rate_limit_count=data["rate_limit_count"], rate_limit_window=timedelta(minutes=data["rate_limit_minutes"]),
                token=data.get("token", ""), by=request.user,
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Added {method.get_kind_display()}; it is notified at once when you are paged.")
            return redirect("notifications:person", user_id=person.pk)
    return _render_person(request, person, method_form=form, status=400)


def method_edit(request, public_id):
    method = _method_or_403(request, public_id)
    shown = method.target if may_read_secret(request.user, method) else method.display_target
    form = ContactMethodForm.for_method(method, request.POST or None, target=shown)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.contact_method_update(
                method=method, kind=data["kind"], target=method.target if data["target"] == shown else data["target"], label=data["label"],
                rate_limit_count=data["rate_limit_count"], rate_limit_window=timedelta(minutes=data["rate_limit_minutes"]),
                is_active=request.POST.get("is_active") == "on", by=request.user,
            )
            if data.get("token") and method.kind in TOKEN_KINDS:  # empty: keep the token it has
                services.contact_method_set_token(method=method, token=data["token"], by=request.user)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Contact method saved.")
            return redirect("notifications:person", user_id=method.user_id)
    return render(request, "notifications/method_edit.html", {"method": method, "form": form},
                  status=400 if request.method == "POST" else 200)


@require_POST
def method_test(request, public_id):
    method = _method_or_403(request, public_id)
    row = services.contact_method_send_test(method=method, by=request.user)
    messages.success(request, f"Test notification queued to {method.display_target}. Its result shows under Recent deliveries.")
    return redirect(f"{redirect('notifications:person', user_id=method.user_id).url}#delivery-{row.public_id}")


@require_POST
def method_rotate_secret(request, public_id):
    method = _method_or_403(request, public_id)
    try:
        services.contact_method_rotate_secret(method=method, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "New signing secret: the old one no longer verifies. Update your receiver with the secret shown below.")
    return redirect(f"{redirect('notifications:person', user_id=method.user_id).url}#method-{method.public_id}")


@require_POST
def method_delete(request, public_id):
    method = _method_or_403(request, public_id)
    services.contact_method_delete(method=method, by=request.user)
    messages.success(request, "Contact method removed.")
    return redirect("notifications:person", user_id=method.user_id)


@require_POST
def rule_create(request):
    person = _person_or_403(request, request.POST.get("user") or request.user.pk, NotificationRule)
    form = RuleForm(request.POST, user=person)
    if form.is_valid():
        try:
            services.notification_rule_create(
                user=person, contact_method=form.cleaned_data["contact_method"], delay_minutes=form.cleaned_data["delay_minutes"],
                urgency=form.cleaned_data["urgency"], by=request.user,
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Notification rule added.")
            return redirect("notifications:person", user_id=person.pk)
    return _render_person(request, person, rule_form=form, status=400)


@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(NotificationRule, pk=pk)
    _person_or_403(request, rule.user_id, NotificationRule)
    services.notification_rule_delete(rule=rule, by=request.user)
    messages.success(request, "Notification rule removed.")
    return redirect("notifications:person", user_id=rule.user_id)


# --- deliveries ---------------------------------------------------------------------------------


def delivery_list(request):
    status = request.GET.get("status") or None
    if status not in DeliveryStatus.values:
        status = None
    page = Paginator(selectors.notification_list(viewer=request.user, status=status), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/deliveries.html", {
        "page": page, "status": status, "statuses": DeliveryStatus.choices,
    })


def delivery_detail(request, public_id):
    row = get_object_or_404(selectors.notification_queryset(request.user), public_id=public_id)
    return render(request, "notifications/delivery.html", {"row": row, "folded": row.folded.all()[:100]})


# --- stakeholder subscriptions -------------------------------------------------------------------


def subscription_list(request):
    can_add = request.user.has_perm("notifications.add_stakeholdersubscription")
    form = SubscriptionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.subscription_create(
                    name=data["name"], kind=data["kind"], target=data["target"], frequency=data["frequency"],
                    severities=data["severities"], include_drills=data["include_drills"], by=request.user,
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Subscription added.")
                return redirect("notifications:subscriptions")
        status = 400
    return render(request, "notifications/subscriptions.html", {
        "subscriptions": selectors.subscription_list(), "form": form, "can_add": can_add,
        "can_delete": request.user.has_perm("notifications.delete_stakeholdersubscription"),
    }, status=status)


@require_POST
def subscription_delete(request, pk):
    services.subscription_delete(subscription=get_object_or_404(StakeholderSubscription, pk=pk), by=request.user)
    messages.success(request, "Subscription removed.")
    return redirect("notifications:subscriptions")
