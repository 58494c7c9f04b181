"""Atom and RSS feeds of public incidents and their public updates (Django syndication). Text
goes through `delivery.safetext` first: XML 1.0 has no place for control characters, and one
in an incident's name must not take the feed down for every reader."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from delivery import safetext
from incidents.markdown import render_markdown
from incidents.models import IncidentStatus

from . import selectors

FEED_ITEMS = 50


class _Feed(Feed):
    def get_object(self, request, *args, **kwargs):
        return selectors.page_settings()

    def title(self, page):
        return safetext.line(f"{page.name}: incident history")

    def link(self, page):
        return reverse("statuspage:home")

    def description(self, page):
        return safetext.line(f"Incidents and public updates from {page.name}.")

    subtitle = description

    def items(self, page):
        return list(selectors.public_incidents().order_by("-published_at")[:FEED_ITEMS])

    def item_title(self, pub):
        status = IncidentStatus(pub.incident.status).label
        return safetext.line(f"{pub.name} ({status})")

    def item_description(self, pub):
        parts = []
        for u in pub.incident.public_updates:
            parts.append(f"<p><strong>{IncidentStatus(u.status).label}</strong> — {u.created_at:%Y-%m-%d %H:%M} UTC</p>{render_markdown(u.body)}")
        return safetext.text("".join(parts), limit=1_000_000)

    def item_link(self, pub):
        return reverse("statuspage:incident", args=[pub.code])

    def item_guid(self, pub):
        return pub.code

    item_guid_is_permalink = False

    def item_pubdate(self, pub):
        return pub.published_at

    def item_updateddate(self, pub):
        return max([pub.published_at] + [u.created_at for u in pub.incident.public_updates])


class AtomFeed(_Feed):
    feed_type = Atom1Feed


class RssFeed(_Feed):
    feed_type = Rss201rev2Feed
