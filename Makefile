# The two commands of the README: `make run` (the main job on the embedded CPU default) and `make test`.
VENV := .venv
STAMP := $(VENV)/.setup-stamp

.PHONY: setup run test test-fast lint ui perf clean

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/rlvr-assets run

test: $(STAMP)
	$(VENV)/bin/ruff check rlvr_assets tests
	$(VENV)/bin/python -m pytest -q

test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m "not e2e"

lint: $(STAMP)
	$(VENV)/bin/ruff check rlvr_assets tests
	$(VENV)/bin/ruff format --check rlvr_assets tests

ui: $(STAMP)
	mkdir -p var/dagster_home && [ -f var/dagster_home/dagster.yaml ] || cp dagster.yaml var/dagster_home/
	DAGSTER_HOME=$(CURDIR)/var/dagster_home $(VENV)/bin/dagster dev -w workspace.yaml

# timing scripts (perf/), each printing side-by-side ratios; figures in docs/MEASUREMENTS.md
perf: $(STAMP)
	$(VENV)/bin/python perf/humaneval_sandbox.py
	$(VENV)/bin/python perf/gate_throughput.py
	$(VENV)/bin/python perf/rollout_engine.py --backends hf-generate,continuous

clean:
	rm -rf var
