# Shared by scripts/demo and scripts/test: a project venv in .venv with efa-tui installed.
# Installs the package itself (not editable), so every run proves that `pip install .` works,
# package data included — but only when the project changed since the last install (_install.py).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "efa-tui needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "efa-tui: creating the virtual environment .venv …" >&2
  "$PY" -m venv .venv
fi
"$PY" scripts/_install.py "$EFA_INSTALL"
