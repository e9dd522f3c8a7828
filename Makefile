# The two commands of the README: `make run` (the main job on the embedded CPU default) and `make test`.
VENV := .venv
STAMP := $(VENV)/.setup-stamp

.PHONY: setup run test test-fast test-docker test-ray lint ui perf clean

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/rlvr-assets run

# Two pytest-xdist workers (most tests wait on subprocesses, Dagster's storage or one Python thread), then the
# tests marked `serial` alone. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup
PYTEST_SERIAL = $(VENV)/bin/python -m pytest -q
# $(call pytest_both,MARKERS): both phases over the tests MARKERS selects; fails if either failed
pytest_both = $(PYTEST_PARALLEL) -m "not serial and $(1)"; parallel=$$?; \
	$(PYTEST_SERIAL) -m "serial and $(1)"; serial=$$?; \
	exit $$((parallel || serial))
test: $(STAMP)
	$(VENV)/bin/ruff check rlvr_assets tests
	$(call pytest_both,not docker and not ray)

test-fast: $(STAMP)
	$(call pytest_both,not e2e and not docker and not ray)

# the Ray launcher on a real local Ray cluster (needs the `ray` extra); not part of `make test`
test-ray: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m ray tests/test_ray.py

# the Docker launcher for real (starts dockerd, builds the image locally); not part of `make test` or CI
test-docker: $(STAMP)
	PYTHON=$(VENV)/bin/python bash scripts/docker_test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check rlvr_assets tests
	$(VENV)/bin/ruff format --check rlvr_assets tests

# `make ui UI_ARGS='-p 3001'` picks another port, UI_HOME another Dagster home.
# The instance configuration is the top-level dagster.yaml, linked into the home (a file already there is kept).
# dagster dev runs inside the home folder: from the repository root it would warn that the root's dagster.yaml
# is not $DAGSTER_HOME's; the code location is the same one workspace.yaml names (module rlvr_assets.definitions).
# `exec`: dagster dev replaces the recipe's shell, so the SIGTERM make forwards to its child (and Ctrl-C's
# SIGINT) reaches dagster dev itself, which then stops its webserver and daemon instead of being orphaned.
UI_HOME ?= $(CURDIR)/var/dagster_home
UI_ARGS ?=
UI_DIR = $(abspath $(UI_HOME))
VENV_DIR = $(abspath $(VENV))
# SIGINT back to its default first: a background job of a non-interactive shell (`make ui &` in a script or a
# CI step) starts with SIGINT ignored, and dagster dev gives SIGTERM whatever SIGINT has, so it would then
# ignore `kill` too.
ui: $(STAMP)
	mkdir -p $(UI_DIR) && { [ -e $(UI_DIR)/dagster.yaml ] || ln -s $(CURDIR)/dagster.yaml $(UI_DIR)/dagster.yaml; }
	cd $(UI_DIR) && exec env DAGSTER_HOME=$(UI_DIR) $(VENV_DIR)/bin/python -c \
	  'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
	  $(VENV_DIR)/bin/dagster dev -m rlvr_assets.definitions -d $(CURDIR) $(UI_ARGS)

# timing scripts (perf/), each printing side-by-side ratios; figures in docs/MEASUREMENTS.md
perf: $(STAMP)
	$(VENV)/bin/python perf/humaneval_sandbox.py
	$(VENV)/bin/python perf/gate_throughput.py
	$(VENV)/bin/python perf/rollout_engine.py --backends hf-generate,continuous

clean:
	rm -rf var
