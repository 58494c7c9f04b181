"""Settings shared by every environment.

Everything comes from the environment (django-environ). With nothing set, the portal runs on
the embedded defaults: a SQLite file, a SQLite-backed Celery broker and a local-memory cache,
all under ./var/.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab, schedule
from csp.constants import NONE, SELF
from kombu import Queue

from config.env import BASE_DIR, env

VAR_DIR = Path(env("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

# Development only: production refuses this key (config/settings/production.py).
DEV_SECRET_KEY = "dev-insecure-key-change-me-5f1c0a9e7b4d4f2a8c6e"
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies (addresses or CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed: the
# client address of rate limits, login lockout and the audit comes from them only
# (incidents.clientip). Empty: REMOTE_ADDR is the client, forwarded headers are dropped.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# How long a staff login lasts (seconds); 12 h covers a working day or an on-call night.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
# The absolute address people reach the portal at; used in emails, feeds and calendar links.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "delivery.apps.DeliveryConfig",
    "incidents.apps.IncidentsConfig",
    "incidents.integrations.apps.IntegrationsConfig",
    "postmortems.apps.PostmortemsConfig",
    "incidents.statuspage.apps.StatuspageConfig",
    "oncall.notifications.apps.NotificationsConfig",
    "oncall.apps.OncallConfig",
    "chatops.apps.ChatopsConfig",
]

MIDDLEWARE = [
    "incidents.clientip.TrustedProxyMiddleware",  # first: drops forwarded headers from untrusted peers
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # before the status page cache, so cached answers carry it too
    "incidents.statuspage.cache.StatusPageCacheMiddleware",  # statuspage: cached public pages, before sessions
    "django.contrib.sessions.middleware.SessionMiddleware",
    "incidents.middleware.UntrustedInputMiddleware",  # NUL and lone surrogates out of query strings, forms, URL parts
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "incidents.viewerzone.ViewerTimeZoneMiddleware",  # times in the viewer's zone (profile, browser, portal)
    "incidents.rules.RuleMiddleware",  # who may use which page: incidents/rules.py
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

# --- Content-Security-Policy (django-csp) ----------------------------------------------------------
# No inline script or style anywhere: every script and stylesheet is a file under static/ (or a
# stylesheet view: /severities.css, /status/theme.css), so an injected <script>, on*= handler or
# javascript: URL does not run. Images may come from https (a status page logo hosted elsewhere).
# /api/docs/ (Swagger UI) relaxes style-src for its own inline styles (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "incidents.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A connection kept across requests (CONN_MAX_AGE > 0) is checked before reuse, so the web and
# the workers carry on by themselves after PostgreSQL restarts.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL plus a busy timeout lets the web process, the worker and beat share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Fails soft (config/cache.py) with short socket timeouts: Redis being down makes the cache a
    # quick miss, never a hung request or a 500.
    CACHES = {"default": {"BACKEND": "config.cache.FailSoftRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
AUTHENTICATION_BACKENDS = [
    "incidents.authentication.LockoutBackend",  # django-axes: refuses locked-out usernames and addresses
    "django.contrib.auth.backends.ModelBackend",
]
# --- Login throttling (django-axes) --------------------------------------------------------------
# After LOGIN_FAILURE_LIMIT failures a username is locked out (from every address), and so is a
# client address (for every username), for LOGIN_COOLOFF_MINUTES. LOGIN_LOCKOUT_PARAMETERS picks
# what counts: comma-separated, "+" joins a combination ("username+ip_address" locks that pair
# only). Every login, failure and lockout is kept (admin: Axes); unlock with the admin or
# `manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("LOGIN_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
]
AXES_CLIENT_IP_CALLABLE = "incidents.clientip.client_ip_or_none"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed login (and lockout) is a row, not only a counter
AXES_VERBOSE = False
LOGIN_REDIRECT_URL = "incidents:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# Request bodies: alert integrations take up to 1 MiB by default (PagerDuty allows 512 KB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=1024 * 1024)
# Untrusted input (incidents/untrusted.py): dates and times outside these years are refused by
# forms and the API (ingest replaces an out-of-range alert time by the time of receipt); JSON
# nested deeper than this is refused (API: 400; ingest: the body 400, one alert's stored copy cut).
INPUT_MIN_YEAR = env.int("INPUT_MIN_YEAR", default=2000)
INPUT_MAX_YEAR = env.int("INPUT_MAX_YEAR", default=2100)
INPUT_MAX_DURATION_DAYS = env.int("INPUT_MAX_DURATION_DAYS", default=366)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
INGEST_MAX_JSON_DEPTH = env.int("INGEST_MAX_JSON_DEPTH", default=32)
# Alerts recorded from one delivery; the rest are refused by name (a request must stay short).
INGEST_MAX_ALERTS = env.int("INGEST_MAX_ALERTS", default=1000)

# --- Email -----------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Incident Portal <incidents@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Outgoing webhooks (Slack, Teams, generic) -----------------------------------------------
# Request-forgery guard: link-local and metadata addresses are always refused; private and
# loopback ranges only when allowed here.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Producers must not hang a web request when the broker is down: the sweep catches up.
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    if CELERY_BROKER_URL.startswith("redis://"):  # rediss:// keeps kombu's own: it turns TLS on by the scheme
        # kombu's Redis transport with the fix that keeps a worker alive when Redis restarts
        # while it holds unacknowledged messages (config/broker.py says why).
        CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "polling_interval": env.float("CELERY_POLLING_INTERVAL", default=0.2),
    }
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Paging runs on a queue of its own, consumed by a worker pool of its own in production
# (`celery -A config worker -Q paging`); everything else stays on the default queue "celery".
# The pager's event subscriber is registered with this queue; config.celery.route_task sends
# the tasks named in PAGING_TASKS there.
PAGING_QUEUE = env("PAGING_QUEUE", default="paging")
CELERY_TASK_DEFAULT_QUEUE = "celery"
# A worker started without -Q consumes both (make run, small installs).
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(PAGING_QUEUE))
PAGING_TASKS = (
    "delivery.tasks.delivery_sweep_task",
    "incidents.tasks.paging_dispatch_sweep_task",
    "oncall.tasks.step_fire_task",
    "oncall.tasks.escalation_sweep_task",
)
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# The outbox of timeline events (incidents.events): one row per (event, subscriber), retried on
# its own with backoff. Each queue's sweep runs, itself, rows whose message was lost (a killed
# worker, the broker away) once they are this late.
EVENTS_SWEEP_SECONDS = env.float("EVENTS_SWEEP_SECONDS", default=2.0)
EVENTS_SWEEP_GRACE_SECONDS = env.float("EVENTS_SWEEP_GRACE_SECONDS", default=2.0)
EVENTS_RETRY_BASE_SECONDS = env.float("EVENTS_RETRY_BASE_SECONDS", default=5.0)
EVENTS_RETRY_MAX_SECONDS = env.float("EVENTS_RETRY_MAX_SECONDS", default=300.0)
EVENTS_MAX_ATTEMPTS = env.int("EVENTS_MAX_ATTEMPTS", default=20)
# After a broker outage: workers reconnect every WORKER_RECONNECT_SECONDS and, once connected,
# send these sweeps at once (config.worker), so work written meanwhile moves within seconds.
CELERY_WORKER_CONSUMER = "config.worker:PortalConsumer"
WORKER_RECONNECT_SECONDS = env.float("WORKER_RECONNECT_SECONDS", default=1.0)
SWEEPS_ON_CONNECT = (
    "incidents.tasks.dispatch_sweep_task",
    "incidents.tasks.paging_dispatch_sweep_task",
    "delivery.tasks.delivery_sweep_task",
    "delivery.tasks.delivery_default_sweep_task",
    "oncall.tasks.escalation_sweep_task",
)
CELERY_BEAT_SCHEDULE = {
    "incidents-dispatch-sweep": {
        "task": "incidents.tasks.dispatch_sweep_task",
        "schedule": schedule(timedelta(seconds=EVENTS_SWEEP_SECONDS)),
    },
    "incidents-paging-dispatch-sweep": {
        "task": "incidents.tasks.paging_dispatch_sweep_task",
        "schedule": schedule(timedelta(seconds=EVENTS_SWEEP_SECONDS)),
    },
}
# --- delivery: the one outbox and the durable-task base (delivery/) -----------------------------
# Work due within this many seconds gets an ETA message after commit; later work waits for its
# sweep (delivery.durable; one horizon for every app).
DURABLE_ETA_HORIZON_SECONDS = env.int("DURABLE_ETA_HORIZON_SECONDS", default=300)
# A sweep does missed work itself for at most this long; the next one (every few seconds) goes on.
DURABLE_SWEEP_BUDGET_SECONDS = env.float("DURABLE_SWEEP_BUDGET_SECONDS", default=10.0)
# Every purpose's defaults; DELIVERY_PURPOSES[name] overrides them per purpose (delivery.purposes).
# lease_seconds: a row left "sending" this long (its worker killed mid-send) is taken back.
DELIVERY_DEFAULTS = {
    "max_attempts": env.int("DELIVERY_MAX_ATTEMPTS", default=5),
    "lease_seconds": env.float("DELIVERY_LEASE_SECONDS", default=300.0),
    "retry_base_seconds": env.float("DELIVERY_RETRY_BASE_SECONDS", default=30.0),
    "retry_max_seconds": env.float("DELIVERY_RETRY_MAX_SECONDS", default=3600.0),
    # A receiver's Retry-After (a 429) is honoured on every retry, up to this long.
    "retry_after_max_seconds": env.float("DELIVERY_RETRY_AFTER_MAX_SECONDS", default=900.0),
    # Longer than any live send takes (a send is one call bounded by WEBHOOK_TIMEOUT_SECONDS /
    # EMAIL_TIMEOUT per socket step): rows of channels whose receivers cannot drop a duplicate
    # are taken back only after this, whatever their purpose's lease.
    "live_send_seconds": env.float("DELIVERY_LIVE_SEND_SECONDS", default=60.0),
}
DELIVERY_PURPOSES: dict[str, dict] = {}
DELIVERY_SWEEP_SECONDS = env.float("DELIVERY_SWEEP_SECONDS", default=2.0)
DELIVERY_SWEEP_GRACE_SECONDS = env.float("DELIVERY_SWEEP_GRACE_SECONDS", default=1.0)
DELIVERY_SWEEP_BATCH = env.int("DELIVERY_SWEEP_BATCH", default=100)
# A task that sends its pages itself right after its commit (delivery.outbox.send_inline) hands
# what is left to the workers once one commit's sends have taken this long (a slow receiver).
DELIVERY_INLINE_BUDGET_SECONDS = env.float("DELIVERY_INLINE_BUDGET_SECONDS", default=2.0)
CELERY_BEAT_SCHEDULE["delivery-sweep"] = {  # the paging queue's purposes, on the paging pool
    "task": "delivery.tasks.delivery_sweep_task",
    "schedule": schedule(timedelta(seconds=DELIVERY_SWEEP_SECONDS)),
}
CELERY_BEAT_SCHEDULE["delivery-default-sweep"] = {  # every other purpose, on the default pool
    "task": "delivery.tasks.delivery_default_sweep_task",
    "schedule": schedule(timedelta(seconds=DELIVERY_SWEEP_SECONDS)),
}
# Apps add their own sweeps to CELERY_BEAT_SCHEDULE in their settings fragments below.
# postmortems: the hourly digest check (reminders are deliveries, purpose "postmortem_reminders").
CELERY_BEAT_SCHEDULE["postmortems-action-item-digest"] = {
    "task": "postmortems.tasks.action_item_digest_task",
    "schedule": crontab(minute=5),
}

# --- incidents.integrations (alert ingestion) ---------------------------------------------------
CELERY_BEAT_SCHEDULE["integrations-heartbeat-sweep"] = {
    "task": "incidents.integrations.tasks.heartbeat_sweep_task",
    "schedule": schedule(timedelta(seconds=30)),
}
# Bodies above INGEST_MAX_BODY_BYTES get 413 (PagerDuty's own 512 KB limit applies on /v2/enqueue).
# Rate limits count per integration per minute in the cache (Redis in production: shared by all replicas).
# Each web process keeps active integrations by key this long: revoking or rotating a key takes
# effect everywhere within it (0: read the database on every delivery).
INGEST_KEY_CACHE_SECONDS = env.float("INGEST_KEY_CACHE_SECONDS", default=2.0)
# statuspage: the maintenance scheduler's safety net (subscriber messages are deliveries, purpose "statuspage").
CELERY_BEAT_SCHEDULE["statuspage-maintenance-sweep"] = {
    "task": "incidents.statuspage.tasks.maintenance_sweep_task",
    "schedule": schedule(timedelta(seconds=15)),
}

# --- oncall: schedules and escalation ------------------------------------------------------
# The sweep fires steps overdue by at least this long (the ETA task normally got there first).
ONCALL_SWEEP_GRACE_SECONDS = env.float("ONCALL_SWEEP_GRACE_SECONDS", default=1.0)
ONCALL_SWEEP_SECONDS = env.float("ONCALL_SWEEP_SECONDS", default=2.0)
# The business hours a low-urgency incident's acknowledge clock counts (escalation delays), in
# TIME_ZONE: "<ISO weekdays> <HH:MM>-<HH:MM>", e.g. "12345 09:00-17:00" for Monday to Friday.
# People's own working hours (their profile) decide when they are notified.
ONCALL_BUSINESS_HOURS = env.str("ONCALL_BUSINESS_HOURS", default="12345 09:00-17:00")
# Handoff reports are planned this far ahead.
ONCALL_HANDOFF_PLAN_HOURS = env.int("ONCALL_HANDOFF_PLAN_HOURS", default=24)
CELERY_BEAT_SCHEDULE["oncall-escalation-sweep"] = {
    "task": "oncall.tasks.escalation_sweep_task",
    "schedule": schedule(timedelta(seconds=ONCALL_SWEEP_SECONDS)),
}
CELERY_BEAT_SCHEDULE["oncall-handoff-sweep"] = {
    "task": "oncall.tasks.handoff_sweep_task",
    "schedule": schedule(timedelta(seconds=30)),
}

# --- notifications (oncall.notifications) ------------------------------------------------------
# Pages and stakeholder messages are deliveries (purposes "paging" and "stakeholders"): retries
# retry_base_seconds * 2^(attempt-1), capped; a row fails for good after max_attempts. The paging
# lease is short (a page whose worker was killed goes out again within seconds): a re-send carries
# the same message id (webhook-id / Idempotency-Key), by which receivers drop a duplicate.
DELIVERY_PURPOSES["paging"] = {
    "max_attempts": env.int("NOTIFY_MAX_ATTEMPTS", default=5),
    "lease_seconds": env.float("NOTIFY_LEASE_SECONDS", default=5.0),
    "retry_base_seconds": env.float("NOTIFY_RETRY_BASE_SECONDS", default=30.0),
    "retry_max_seconds": env.float("NOTIFY_RETRY_MAX_SECONDS", default=3600.0),
}
# Chat operations (Slack app, Mattermost): short retries, so a post waiting for its channel goes soon.
DELIVERY_PURPOSES["chat"] = {"max_attempts": 8, "retry_base_seconds": env.float("CHAT_RETRY_BASE_SECONDS", default=5.0),
                             "retry_max_seconds": 600.0, "lease_seconds": 120.0}
DELIVERY_PURPOSES["stakeholders"] = {"max_attempts": env.int("NOTIFY_MAX_ATTEMPTS", default=5), "lease_seconds": 60.0}
# Acknowledge links in notifications expire after this many seconds.
NOTIFY_ACK_LINK_MAX_AGE = env.int("NOTIFY_ACK_LINK_MAX_AGE", default=24 * 3600)
# ntfy push: a bare topic name in a contact method goes to this server (run your own: README).
NTFY_DEFAULT_SERVER = env("NTFY_DEFAULT_SERVER", default="https://ntfy.sh")
# Twilio SMS and voice (README: "Phones"). No defaults for credentials: unset means phones are off.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
# Another base URL for the REST API (a region or edge such as https://api.dublin.ie1.twilio.com,
# or a compatible gateway); empty: the library's default.
TWILIO_API_BASE = env("TWILIO_API_BASE", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Country calling codes phone contact methods may use (e.g. "1,44,49"); empty: any.
PHONE_ALLOWED_COUNTRY_CODES = [int(c) for c in env.list("PHONE_ALLOWED_COUNTRY_CODES", default=[]) if str(c).strip().isdigit()]
PHONE_VERIFY_CODE_MAX_AGE = timedelta(seconds=env.int("PHONE_VERIFY_CODE_MAX_AGE_SECONDS", default=600))
PHONE_VERIFY_MAX_ATTEMPTS = env.int("PHONE_VERIFY_MAX_ATTEMPTS", default=5)
# Cost and abuse limits: SMS and calls per number per hour, and for the whole portal per hour
# (beyond them a page is folded into the next digest, as for every method's own rate limit).
PHONE_PER_NUMBER_PER_HOUR = env.int("PHONE_PER_NUMBER_PER_HOUR", default=20)
PHONE_GLOBAL_PER_HOUR = env.int("PHONE_GLOBAL_PER_HOUR", default=500)
NOTIFY_DIGEST_INTERVAL = timedelta(seconds=env.int("NOTIFY_DIGEST_INTERVAL_SECONDS", default=3600))
CELERY_BEAT_SCHEDULE["notifications-update-reminders-sweep"] = {
    "task": "oncall.notifications.tasks.update_reminders_sweep_task",
    "schedule": schedule(timedelta(seconds=5)),
}

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidents.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["incidents.rules.RulePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "incidents.api.renderers.PortalBrowsableAPIRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "incidents.bounded.PortalFilterBackend",  # filters bounded like forms (incidents/bounded.py)
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON bodies are untrusted: size, nesting, NUL and lone surrogates (incidents/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "incidents.api.parsers.PortalJSONParser",
        "incidents.api.parsers.PortalFormParser",
        "incidents.api.parsers.PortalMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "incidents.api.pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Incident Portal API",
    "DESCRIPTION": "Incidents, on-call, alert ingestion, status page and postmortems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the vendored sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# incidents.integrations: alerts and incidents both have a "status" enum.
# One name per choice set in the OpenAPI schema (many models have a "status" or a "kind").
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "IncidentStatusEnum": "incidents.models.IncidentStatus",
    "MaintenanceStatusEnum": "incidents.models.MaintenanceStatus",
    "CommunicationTemplateKindEnum": "incidents.models.CommunicationTemplate.Kind",
    "AlertStatusEnum": "incidents.integrations.models.AlertStatus",
    "HeartbeatStatusEnum": "incidents.integrations.models.HeartbeatStatus",
    "IntegrationKindEnum": "incidents.integrations.models.IntegrationKind",
    "ComponentStatusEnum": "incidents.statuspage.models.ComponentStatus",
    "ChannelKindEnum": "oncall.notifications.models.ChannelKind",
    "DeliveryStatusEnum": "delivery.models.DeliveryStatus",
    "TargetKindEnum": "oncall.models.TargetKind",
    "EscalationStateEnum": "oncall.models.EscalationState",
    "StepStatusEnum": "oncall.models.StepStatus",
    "PostmortemStatusEnum": "postmortems.models.PostmortemStatus",
    "ActionItemStatusEnum": "postmortems.models.ActionStatus",
    "RoleEnum": "incidents.models.Role",
    "LinkKindEnum": "incidents.models.LinkKind",
}

# Every handler redacts secrets in URL paths (config/redact.py); runserver's access log
# (django.server) gets its own handler so it is redacted too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.redact.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},  # no unfiltered handler of Django's own: to the root's
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` when set (empty: open).
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- statuspage (incidents.statuspage) --------------------------------------------------------
# Rendered pages and JSON are cached this long at most (any public change invalidates at once).
STATUSPAGE_CACHE_SECONDS = env.int("STATUSPAGE_CACHE_SECONDS", default=60)
# Each web process re-reads the shared cache version at most this often (0: on every request);
# a change made by another process (the worker) shows within this time.
STATUSPAGE_VERSION_CHECK_SECONDS = env.float("STATUSPAGE_VERSION_CHECK_SECONDS", default=1.0)
# Cache-Control max-age for browsers, proxies and CDNs.
STATUSPAGE_CLIENT_MAX_AGE = env.int("STATUSPAGE_CLIENT_MAX_AGE", default=10)
STATUSPAGE_SUBSCRIBE_LIMIT_PER_HOUR = env.int("STATUSPAGE_SUBSCRIBE_LIMIT_PER_HOUR", default=10)
STATUSPAGE_CONFIRM_MAX_AGE = env.int("STATUSPAGE_CONFIRM_MAX_AGE", default=2 * 24 * 3600)
STATUSPAGE_UNSUBSCRIBE_MAX_AGE = env.int("STATUSPAGE_UNSUBSCRIBE_MAX_AGE", default=90 * 24 * 3600)
# Only the bench turns this on: it adds /bench/trivial/, the baseline of the status page rows.
BENCH_TRIVIAL_VIEW = False

# Demo accounts created by `manage.py seed_demo` (make run prints them).
DEMO_PASSWORD = env("DEMO_PASSWORD", default="demo-password-123")

# Development and tests serve static files straight from the source folders.
WHITENOISE_USE_FINDERS = True
# --- postmortems ---------------------------------------------------------------------------
# Remind a postmortem's owner this long before it is due (and again when it is overdue).
POSTMORTEM_REMINDER_BEFORE = timedelta(hours=env.int("POSTMORTEM_REMINDER_BEFORE_HOURS", default=24))
# Reminders are deliveries (purpose "postmortem_reminders"): the delivery layer's retries and lease.
DELIVERY_PURPOSES["postmortem_reminders"] = {"max_attempts": env.int("POSTMORTEM_REMINDER_MAX_ATTEMPTS", default=5)}
# Game days remind their participants and facilitator this long before the start, as
# (kind, seconds) pairs; a game day planned later than every lead time gets one reminder at once.
GAMEDAY_REMINDERS = tuple(
    (kind, seconds) for kind, seconds in (("day_before", 86400), ("hour_before", 3600))
    if env.bool(f"GAMEDAY_REMIND_{kind.upper()}", default=True)
)
# The daily digest of overdue action items goes out from this hour (portal time zone) on.
POSTMORTEM_DIGEST_HOUR = env.int("POSTMORTEM_DIGEST_HOUR", default=8)
# Share of incidents that automated alerts should find first (reference target: 80%).
METRICS_ALERT_DETECTION_TARGET = env.float("METRICS_ALERT_DETECTION_TARGET", default=0.8)
# A runbook is due for review this long after it was last reviewed (the procedures review
# quarterly); past it, the runbook list and the incident pages that offer it flag it.
RUNBOOK_REVIEW_INTERVAL = timedelta(days=env.int("RUNBOOK_REVIEW_INTERVAL_DAYS", default=90))
# PostgreSQL work_mem for the metrics queries' transaction (empty: the server's default).
METRICS_WORK_MEM = env("METRICS_WORK_MEM", default="64MB")
# Whether the metrics say "n restricted incidents not shown" to those who may not see them
# (off: a restricted incident leaves no trace, not even a count).
METRICS_SHOW_RESTRICTED_COUNT = env.bool("METRICS_SHOW_RESTRICTED_COUNT", default=False)
