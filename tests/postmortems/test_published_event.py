"""The `postmortem.published` event has one public shape (incidents.event_payloads): the
postmortems app writes it, the status page reads it, neither knows the other's internals."""

import pytest

from incidents.event_payloads import PostmortemPublished
from incidents.statuspage import services as statuspage
from incidents.statuspage.models import PublicIncident
from incidents.tasks import dispatch_event_task
from postmortems import services

from .conftest import fill_required

pytestmark = pytest.mark.django_db


def test_a_published_postmortem_reaches_the_status_page_through_the_public_shape(postmortem, responder, settings):
    settings.SITE_URL = "https://portal.example.com"
    statuspage.public_incident_ensure(postmortem.incident)
    fill_required(postmortem, responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    services.postmortem_publish(postmortem=postmortem, by=responder, public_summary="A bad deploy; rolled back.")

    event = postmortem.incident.timeline.get(kind=PostmortemPublished.KIND)
    assert PostmortemPublished.from_data(event.data) == PostmortemPublished(
        postmortem_id=postmortem.pk, public_summary="A bad deploy; rolled back.", url=services.public_url(postmortem))
    dispatch_event_task(event.pk)
    pub = PublicIncident.objects.get(incident=postmortem.incident)
    assert pub.postmortem_summary == "A bad deploy; rolled back."
    assert pub.postmortem_url == services.public_url(postmortem)


@pytest.mark.parametrize("data", [None, [], "text", {}, {"postmortem": True, "public_summary": 5, "url": ["x"]}, {"public_summary": None}])
def test_reading_odd_stored_data_never_fails(data):
    published = PostmortemPublished.from_data(data)
    assert published == PostmortemPublished(postmortem_id=None, public_summary="", url="")


def test_the_shape_round_trips():
    published = PostmortemPublished(postmortem_id=7, public_summary="Disk full.", url="https://x.test/pm")
    assert PostmortemPublished.from_data(published.as_data()) == published
