import factory

from incidents import services
from incidents.models import Service, Severity


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    description = "A service"


def declare(title="Checkout is down", severity="P1", by=None, **kw):
    """An incident made the real way, through the service."""
    return services.incident_declare(title=title, severity=Severity.objects.get(key=severity), by=by, **kw)
