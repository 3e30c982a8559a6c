"""scripts/_install.py: the demo and the tests install the project only when it changed.

The script runs the venv's pip; here the venv's python is a stand-in that records each pip call
(and fails when asked), so the decision — install or not — is what is tested, not pip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _project(tmp_path: Path, fail: bool = False) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "_install.py", project / "scripts")
    shutil.copy(ROOT / "pyproject.toml", project)
    (project / "efa_tui").mkdir()
    (project / "efa_tui" / "__init__.py").write_text("VERSION = 1\n")
    venv_python = project / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f"#!/bin/sh\necho \"$@\" >> {project / 'pip-calls'}\n"
                           f"echo 'Collecting something'\necho 'Requirement already satisfied: x'\nexit {1 if fail else 0}\n")
    venv_python.chmod(0o755)
    return project


def _install(project: Path, spec: str = ".") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(project / "scripts" / "_install.py"), spec],
                          capture_output=True, text=True, timeout=60)


def _installs(project: Path) -> int:
    calls = project / "pip-calls"
    return sum(" install --progress-bar" in line for line in calls.read_text().splitlines()) if calls.exists() else 0


def test_an_unchanged_project_is_not_installed_again(tmp_path):
    project = _project(tmp_path)
    first = _install(project)
    assert first.returncode == 0 and _installs(project) == 1
    assert "installing . into .venv (first start)" in first.stderr
    assert "Collecting something" in first.stderr and "already satisfied" not in first.stderr
    again = _install(project)
    assert again.returncode == 0 and again.stderr == "" and _installs(project) == 1


def test_a_changed_file_or_another_extra_installs_once(tmp_path):
    project = _project(tmp_path)
    _install(project)
    (project / "efa_tui" / "__init__.py").write_text("VERSION = 2\n")
    changed = _install(project)
    assert "the project changed" in changed.stderr and _installs(project) == 2
    assert "not installed yet" in _install(project, ".[test]").stderr and _installs(project) == 3
    _install(project)  # the demo after the tests: the same code, "." was installed from it
    _install(project, ".[test]")
    assert _installs(project) == 3


def test_a_failed_install_is_tried_again_next_time(tmp_path):
    project = _project(tmp_path, fail=True)
    failed = _install(project)
    assert failed.returncode == 1 and "installation failed" in failed.stderr
    assert _install(project).returncode == 1
    assert len((project / "pip-calls").read_text().splitlines()) == 2  # pip ran again: no stamp was left
