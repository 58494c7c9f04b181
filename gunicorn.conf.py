# Read by gunicorn from the working directory (or pass -c gunicorn.conf.py).
# Secrets in URL paths (integration keys, calendar and link tokens) never reach the access log.
logger_class = "config.redact.GunicornLogger"
# The application is loaded once, in the master: a worker that dies (a crash, the OOM killer, a
# timeout) is forked again ready to serve, instead of importing Django anew while alerts wait.
preload_app = True
