"""The production deployment's commands, in one place: the README's "Deployment" section quotes
each of them word for word (tests/config/test_deploy_recipe.py checks it) and `make chaos`
runs them, changing only what a one-machine run must change (the port, the number of
processes, the schedule file's folder and worker names), so the recipe stays true."""

import shlex

COMMANDS = {
    "install": "pip install -r requirements.txt",
    "migrate": "python manage.py migrate --noinput",
    "collectstatic": "python manage.py collectstatic --noinput",
    "web": "gunicorn config.wsgi --bind 127.0.0.1:8000 --workers 4 --timeout 30 --graceful-timeout 20",
    "worker_paging": "celery -A config worker -Q paging -n paging@%h --concurrency 4 --without-mingle --without-gossip --loglevel INFO",
    "worker_default": "celery -A config worker -Q celery,paging -n default@%h --concurrency 4 --without-mingle --without-gossip --loglevel INFO",
    "beat": "celery -A config beat --schedule /var/lib/portal/celerybeat-schedule --loglevel INFO",
}

# The environment every process gets, as the README's deployment section lists it.
ENV_VARS = (
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL", "DATABASE_URL",
    "REDIS_URL", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "STATIC_ROOT",
)


def argv(name: str, **options: str) -> list[str]:
    """The command `name` split into argv, with the value of each given option replaced:
    argv("web", **{"--bind": "127.0.0.1:9000"})."""
    parts = shlex.split(COMMANDS[name])
    for flag, value in options.items():
        index = parts.index(flag)
        parts[index + 1] = value
    return parts
