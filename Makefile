# Developer / CI entry points for the teamware.qmail collection.
# Two toolchains are tested: ansible-core 2.19 on Python 3.11 and 2.21 on Python 3.12
# (requirements/py311.txt, requirements/py312.txt). See scripts/README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# toolchains for venv/unit/sanity/integration
PYVERS ?= 3.11 3.12
# toolchains ansible-lint runs under
LINT_PYVERS ?= 3.11 3.12
# toolchains the pytest-based integration tests run under (tests/integration/run.sh ignores it)
# Playbook runs within CI's 90 minutes: the localhost integration tests under ansible-core 2.21 and
# the container scenarios under 2.19, so that both toolchains run the roles for real
# (make integration INTEGRATION_PYVERS="3.11 3.12" runs both).
INTEGRATION_PYVERS ?= 3.12
# toolchain molecule runs under
MOLECULE_PYVER ?= 3.11
# extra pytest arguments, e.g. make unit PYTEST_ARGS='-k routing -x'
PYTEST_ARGS ?=
# extra ansible-test arguments, e.g. make sanity SANITY_ARGS='--test pylint'
SANITY_ARGS ?=
# 0: skip the compile/import run on the other installed Pythons
SANITY_COMPAT ?= 1
export SANITY_ARGS SANITY_COMPAT

TEST_STAGES := venv unit sanity lint docs-check changelog-lint integration molecule ee

# (no .PHONY for the pattern targets venv-% unit-% sanity-%: make skips implicit
# rule search for phony targets; there are no files by those names anyway)
.PHONY: help demo venv unit sanity lint docs-check changelog-lint integration molecule ee test clean distclean

# METHOD chooses the integration method of the demo, e.g. make demo METHOD=torecvm_users
METHOD ?= smtp_smtproutes

help:
	@echo "make demo         set up podman, build the lab, run site.yml for METHOD=$(METHOD), send a message, show where it landed"
	@echo "make venv         create/refresh .venv-py311 and .venv-py312 (+ dependency collections)"
	@echo "make unit         pytest tests/unit and tests/simulator under both toolchains"
	@echo "make sanity       ansible-test sanity under both toolchains"
	@echo "make lint         ansible-lint --profile production (when roles/playbooks exist)"
	@echo "make docs-check   generated role reference up to date, links and pictures in docs/ resolve"
	@echo "make changelog-lint  antsibull-changelog lint of the changelog fragments"
	@echo "make integration  tests/integration/run.sh, or pytest tests/integration"
	@echo "make molecule     molecule scenarios, when there are any"
	@echo "make ee           build the execution environment (cached) and run site.yml in it over SSH against lab hosts"
	@echo "make test         all of the above, each stage timed; fails if any stage fails"
	@echo "make unit-3.11 / sanity-3.12 / venv-3.11 ...   one toolchain only"
	@echo "make clean        remove build/ (copies for ansible-test, collection roots)"
	@echo "make distclean    also remove the venvs and .cache/"

demo: venv-3.11
	METHOD=$(METHOD) bash lab/demo.sh

venv: $(addprefix venv-,$(PYVERS))
venv-%:
	scripts/setup-venv.sh $*

unit:
	@rc=0; for v in $(PYVERS); do scripts/pytest.sh $$v -- $(PYTEST_ARGS) || rc=1; done; exit $$rc
unit-%:
	scripts/pytest.sh $* -- $(PYTEST_ARGS)

sanity:
	@rc=0; for v in $(PYVERS); do scripts/sanity.sh $$v || rc=1; done; exit $$rc
sanity-%:
	scripts/sanity.sh $*

lint:
	@rc=0; for v in $(LINT_PYVERS); do scripts/lint.sh $$v || rc=1; done; exit $$rc

# the generated role reference matches argument_specs, every link and picture in docs/ resolves
docs-check: venv-3.11
	.venv-py311/bin/python scripts/docs/check_docs.py

changelog-lint: venv-3.11
	.venv-py311/bin/antsibull-changelog lint

integration:
	scripts/integration.sh $(INTEGRATION_PYVERS)

molecule:
	scripts/molecule.sh $(MOLECULE_PYVER)

# The execution environment: lab/ee-build.sh (ansible-builder, cached by a hash of the inputs), then site.yml
# from inside it over SSH against lab containers (lab/ee-test.sh); SKIPPED loudly without podman or the qmail image.
ee: venv-3.11
	bash lab/ee-test.sh

test:
	@scripts/run-stages.sh $(TEST_STAGES)

clean:
	rm -rf build

distclean: clean
	rm -rf .venv-py311 .venv-py312 .cache
