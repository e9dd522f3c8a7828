# Training image for `scale.launcher: docker` and `k8s`: the project and its dependencies, so a container can run
# `python -m rlvr_assets.train JOB` (the policy_checkpoint asset passes the command; checkpoints and the job file
# live under paths.var_dir, which the launcher mounts). Build where a registry is reachable:
#   docker build -t rlvr-assets-train:latest .
# PyPI's torch wheels carry CUDA and also run on CPU; pass --build-arg TORCH=torch==2.13.0+cpu with a CPU index
# for a smaller image. Offline machines build a local image with scripts/docker_local_image.sh instead.
ARG BASE=python:3.11-slim
FROM ${BASE}
ARG TORCH="torch==2.13.0"
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HOME=/tmp
RUN pip install --no-cache-dir "${TORCH}"
COPY pyproject.toml README.md /opt/rlvr_assets/
COPY rlvr_assets /opt/rlvr_assets/rlvr_assets
RUN pip install --no-cache-dir /opt/rlvr_assets
WORKDIR /tmp
CMD ["python", "-m", "rlvr_assets.train", "--help"]
