"""The README's deployment section and `make chaos` run the same commands: the chaos run reads
them from bench/chaos/deploy.py, and the README must quote each word for word."""

from pathlib import Path

from bench.chaos import deploy

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README[README.index("## Deployment on PostgreSQL + Redis"):README.index("## Architecture")]


def test_readme_deployment_section_quotes_every_command_of_the_chaos_run():
    missing = [name for name, command in deploy.COMMANDS.items() if command not in SECTION]
    assert not missing, f"README's deployment section lacks: {[deploy.COMMANDS[m] for m in missing]}"


def test_readme_systemd_units_run_the_same_commands():
    for name in ("web", "worker_paging", "worker_default", "beat"):
        unit_line = "ExecStart=/opt/portal/venv/bin/" + deploy.COMMANDS[name].replace("@%h", "@%%h")
        assert unit_line in SECTION, unit_line


def test_readme_deployment_section_sets_every_variable_the_chaos_run_sets():
    assert not [name for name in deploy.ENV_VARS if f"{name}=" not in SECTION]


def test_argv_replaces_only_the_values_asked_for():
    assert deploy.argv("web", **{"--bind": "127.0.0.1:9999", "--workers": "2"}) == [
        "gunicorn", "config.wsgi", "--bind", "127.0.0.1:9999", "--workers", "2", "--timeout", "30", "--graceful-timeout", "20"]
