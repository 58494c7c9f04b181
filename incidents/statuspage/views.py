"""The public pages: the status page, incident and maintenance permalinks, history, feeds, the
Statuspage-compatible JSON, and subscribing. Everything read is cached (see cache.py); the
subscription pages, which carry a CSRF token, are not."""

import json
from datetime import UTC, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from incidents.clientip import client_ip
from incidents.colours import text_on
from incidents.exceptions import DomainError

from . import documents, selectors, subscriptions
from .cache import cached_response
from .feeds import AtomFeed, RssFeed
from .forms import SubscribeForm
from .models import StatusComponent
from .notify import read_token, subscriber_confirm

HTML = "text/html; charset=utf-8"
HISTORY_MONTHS = 3


def _render(request, template: str, context: dict, status: int = 200) -> tuple[int, str, bytes]:
    with timezone.override(UTC):  # one rendering for every reader (cached); status.js shows local time
        body = render_to_string(template, context, request=None)
    return status, HTML, body.encode()


def _not_found(page, message="We could not find that page.") -> tuple[int, str, bytes]:
    return _render(None, "statuspage/404.html", {"page": page, "message": message}, status=404)


def theme_css(request):
    """The page's brand colours as a stylesheet (pages carry no inline style under the CSP)."""

    def build():
        page = selectors.page_settings()
        css = (f":root {{ --brand: {page.brand_colour}; --brand-fg: {text_on(page.brand_colour)}; "
               f"--head-bg: {page.header_background}; --head-fg: {page.header_text_colour}; }}\n")  # hex, validated
        return 200, "text/css; charset=utf-8", css.encode()

    return cached_response(request, build)


def home(request):
    def build():
        snap = selectors.snapshot()
        return _render(request, "statuspage/home.html", {"snap": snap, "page": snap.page, "status": documents.status_doc(snap)})

    return cached_response(request, build)


def incident(request, code):
    def build():
        page = selectors.page_settings()
        pub = selectors.incident_by_code(code)
        if pub is None:
            return _not_found(page, "There is no public incident with that id.")
        return _render(request, "statuspage/incident.html", {"page": page, "pub": pub, "incident": pub.incident})

    return cached_response(request, build)


def maintenance(request, code):
    def build():
        page = selectors.page_settings()
        m = selectors.maintenance_by_code(code)
        if m is None:
            return _not_found(page, "There is no maintenance window with that id.")
        components = StatusComponent.objects.filter(service__in=m.service_list).order_by("position", "name")
        return _render(request, "statuspage/maintenance.html", {"page": page, "m": m, "components": components})

    return cached_response(request, build)


def history(request):
    def build():
        page = selectors.page_settings()
        try:
            page_number = request.GET.get("page", "1")
            offset = max(0, min(int(page_number) - 1, 120)) if page_number.isdecimal() and len(page_number) <= 3 else 0
        except ValueError:
            offset = 0
        end = timezone.localdate().replace(day=1)
        for _ in range(offset * HISTORY_MONTHS):
            end = (end - timedelta(days=1)).replace(day=1)
        months = selectors.history(HISTORY_MONTHS, before=end)
        return _render(request, "statuspage/history.html", {
            "page": page, "months": months, "page_number": offset + 1,
            "newer": offset if offset else None, "older": offset + 2,
        })

    return cached_response(request, build)


def feed(request, kind):
    feed_view = AtomFeed() if kind == "atom" else RssFeed()

    def build():
        response = feed_view(request)
        return response.status_code, response["Content-Type"], response.content

    return cached_response(request, build)


def json_document(name):
    def view(request):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "*"
            response["Access-Control-Max-Age"] = "86400"
            return response
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD, OPTIONS"})

        def build():
            doc = documents.document(name, selectors.snapshot())
            return 200, "application/json", json.dumps(doc, separators=(",", ":")).encode()

        return cached_response(request, build, cors=True)

    view.__name__ = f"json_{name}"
    return view


def not_found(request, path=""):
    return cached_response(request, lambda: _not_found(selectors.page_settings()))


# --- subscribing (not cached: these carry a CSRF token) -----------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
def subscribe(request):
    page = selectors.page_settings()
    form = SubscribeForm(request.POST or None)
    if request.method == "POST":
        if subscriptions.rate_limited(client_ip(request)):
            return render(request, "statuspage/subscribe.html", {"page": page, "form": form, "limited": True}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["kind"] == "webhook":
                    subscriptions.subscribe_webhook(endpoint=data["endpoint"], components=data["components"])
                else:
                    subscriptions.subscribe_email(email=data["email"], components=data["components"])
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return render(request, "statuspage/message.html", {
                    "page": page, "title": "Check your inbox" if data["kind"] == "email" else "Confirm the webhook",
                    "message": (
                        "We sent a confirmation link to that address. Your subscription starts when you open it."
                        if data["kind"] == "email" else
                        "We sent the endpoint a confirmation request. Updates start once it answers with the token it received "
                        "(or someone opens the confirm_url in that request)."
                    ),
                })
    return render(request, "statuspage/subscribe.html", {"page": page, "form": form}, status=400 if form.errors else 200)


@csrf_protect
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    return _token_action(request, token, "confirm")


@csrf_exempt  # authorised by the signed token alone, so mail clients' one-click POST (RFC 8058) works
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    return _token_action(request, token, "unsubscribe")


def _token_action(request, token, action):
    """Confirm or unsubscribe: GET shows a button (mail scanners follow links), POST acts."""
    page = selectors.page_settings()
    subscriber = read_token(token, action)
    if subscriber is None:
        return render(request, "statuspage/message.html", {
            "page": page, "title": "This link is not valid",
            "message": "It may have expired or been mistyped. You can subscribe again from the status page.",
        }, status=400)
    if request.method == "POST":
        if action == "confirm":
            subscriber_confirm(subscriber=subscriber)
            title, message = "Subscription confirmed", (
                "You will receive an email for each update on this page." if subscriber.kind == subscriber.Kind.EMAIL
                else "The endpoint will receive a POST for every incident and component change.")
        else:
            subscriptions.subscriber_unsubscribe(subscriber=subscriber)
            title, message = "Unsubscribed", "You will not receive any more updates from this page."
        return render(request, "statuspage/message.html", {"page": page, "title": title, "message": message})
    return render(request, "statuspage/confirm.html", {"page": page, "action": action, "subscriber": subscriber})


def bench_trivial(request):
    """Only routed when BENCH_TRIVIAL_VIEW is on (config/settings/bench.py): the bench's baseline."""
    return HttpResponse(b"ok", content_type="text/plain")

