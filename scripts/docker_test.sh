#!/usr/bin/env bash
# `make test-docker`: the Docker launcher's integration test on this machine. Installs Debian's docker.io when
# dockerd is missing, starts a daemon that needs no iptables, bridge or overlay support when none answers, builds
# the training image locally (no registry) and runs the tests marked `docker`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
IMAGE=${RLVR_TEST_IMAGE:-rlvr-assets-train:local}

if ! command -v dockerd > /dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io > /dev/null
fi
if ! docker info > /dev/null 2>&1; then
  mkdir -p var
  nohup dockerd --iptables=false --bridge=none --storage-driver=vfs > var/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info > /dev/null 2>&1 && break; sleep 1; done
  docker info > /dev/null || { echo "dockerd did not start; see var/dockerd.log" >&2; exit 1; }
fi
bash scripts/docker_local_image.sh "$IMAGE" "$PYTHON"
RLVR_TEST_IMAGE=$IMAGE "$PYTHON" -m pytest -q -m docker tests/test_docker.py
