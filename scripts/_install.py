"""Install efa-tui into .venv only when the project changed since the last install (scripts/_venv.sh).

``python scripts/_install.py SPEC`` (SPEC: ``.`` or ``.[test]`` …). The stamp
``.venv/efa-install.json`` holds a hash of what is installed — the venv's Python and every file of
the package and its build (pyproject.toml, efa_tui/) — and the SPECs installed from exactly that
(the demo and the tests take turns without reinstalling): when both match, nothing runs and the app
starts at once (a reinstall of an unchanged project took 5–30 s of a blank terminal). When it does install, it says
so and shows pip's progress, one line per package, without the "already satisfied" noise.

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# What pip builds from: a change in any of these is a change of the installed package.
SOURCES = ("pyproject.toml", "efa_tui")
NOISE = ("Requirement already satisfied", "Using cached", "Obtaining", "Preparing metadata",
         "Getting requirements", "Installing build dependencies", "Checking if build backend",
         "Building wheels for collected", "Created wheel", "Stored in directory", "WARNING: Location",
         "Looking in", "Attempting uninstall", "Found existing installation", "Uninstalling",
         "Successfully uninstalled")


STAMP = ROOT / ".venv" / "efa-install.json"


def fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for source in SOURCES:
        path = ROOT / source
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def pip(*args: str) -> int:
    """Run pip in the venv, printing its progress lines (indented) without the noise."""
    process = subprocess.Popen(
        [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        line = line.rstrip()
        tail = (tail + [line])[-30:]
        if line and not line.lstrip().startswith(NOISE):
            print(f"  {line}", file=sys.stderr, flush=True)
    code = process.wait()
    if code:
        print("\n".join(tail), file=sys.stderr)
    return code


def main() -> int:
    spec = sys.argv[1] if len(sys.argv) > 1 else "."
    wanted = fingerprint()
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        stamp = {}
    if stamp.get("fingerprint") == wanted and spec in stamp.get("specs", []):
        return 0
    if not stamp:
        why = "first start"
    elif stamp.get("fingerprint") == wanted:
        why = f"{spec} not installed yet"
    else:
        why = "the project changed since the last install"
    hint = " — a minute or two, once" if not stamp else ""
    print(f"efa-tui: installing {spec} into .venv ({why}){hint} …", file=sys.stderr, flush=True)
    STAMP.unlink(missing_ok=True)  # a failed or interrupted install must not count as done
    if pip("install", "--quiet", "--upgrade", "pip") or pip("install", "--progress-bar", "off", spec):
        print("efa-tui: the installation failed (pip's last lines above).", file=sys.stderr)
        return 1
    specs = stamp.get("specs", []) if stamp.get("fingerprint") == wanted else []
    STAMP.write_text(json.dumps({"fingerprint": wanted, "specs": sorted({*specs, spec})}) + "\n")
    print("efa-tui: installed.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
