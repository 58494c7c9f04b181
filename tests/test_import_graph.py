"""The import graph keeps the layers DESIGN.md draws and has no cycles (the contracts are in
pyproject.toml; `make lint` runs the same check)."""

import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_app_of_the_portal_is_in_the_checked_graph():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    venv = Path(sys.prefix).resolve()  # a virtualenv inside the checkout holds no app of ours
    ours = {app.name.split(".")[0] for app in apps.get_app_configs()
            if Path(app.path).resolve().is_relative_to(ROOT) and not Path(app.path).resolve().is_relative_to(venv)}
    assert ours - {"config"}, "no app of the portal found"
    assert ours | {"config"} <= set(config["root_packages"]), "add the app to root_packages and to the layers contract"
    layered = {name.strip("() ") for layer in config["contracts"][0]["layers"] for name in layer.split("|")}
    assert set(config["root_packages"]) <= layered


def test_a_cycle_through_an_import_inside_a_function_is_caught(tmp_path):
    """The check sees imports made inside functions too (the usual way to hide a cycle)."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "services.py").write_text("def later():\n    from . import tasks\n    return tasks\n")
    (package / "tasks.py").write_text("from . import services\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = cyclic\n\n"
        "[importlinter:contract:acyclic]\nname = acyclic\ntype = acyclic_siblings\nancestors = cyclic\n"
    )
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "acyclic BROKEN" in result.stdout
    assert "No cycles are allowed in cyclic." in result.stdout
