# Read by gunicorn from the working directory (or pass -c gunicorn.conf.py).
# Secrets in URL paths (integration keys, calendar and link tokens) never reach the access log.
logger_class = "config.redact.GunicornLogger"
