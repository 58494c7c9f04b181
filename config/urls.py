from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.integrations import receivers
from incidents.integrations.api.urls import ingest_urlpatterns
from incidents.statuspage import views as statuspage_views

from . import views

api_v1 = [
    path("", include("incidents.api.urls")),
    path("", include("incidents.integrations.api.urls")),
    path("", include("postmortems.api.urls")),
    path("", include("incidents.statuspage.api.urls")),
    path("", include("oncall.notifications.api.urls")),
    path("", include("oncall.api.urls")),
]

urlpatterns = [
    path("api/v1/integrations/", include(ingest_urlpatterns)),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("v2/enqueue", receivers.pagerduty_enqueue, name="pagerduty-enqueue"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Set-password links of invitations (oncall.services.people), Django's password-reset views.
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's page script comes from ?script (no inline script); its stylesheet sets inline styles.
    path("api/docs/", csp_update({"style-src": [SELF, UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("", include("incidents.integrations.urls")),
    path("", include("postmortems.urls")),
    path("status/", include("incidents.statuspage.urls")),
    path("statuspage/", include("incidents.statuspage.staff_urls")),
    path("oncall/", include("oncall.urls")),
    path("", include("oncall.notifications.urls")),
    path("", include("chatops.urls")),
    path("", include("incidents.urls")),
]

if settings.BENCH_TRIVIAL_VIEW:  # config/settings/bench.py only: the status page bench's baseline
    urlpatterns.insert(0, path("bench/trivial/", statuspage_views.bench_trivial))

handler403 = "incidents.views.permission_denied"
handler404 = "incidents.views.not_found"
handler500 = "config.views.server_error"
