# baremetal.metallb: set-up, build, lab and tests.
#
#   make demo        set up, bring the lab up, run site.yml + verify.yml on it (see README)
#   make test        set up whatever is missing, then every test suite
#   make lab-up      bring the network-namespace lab up (root)
#   make lab-down    tear it down; leaves nothing behind
#
# Every target installs what it needs itself: a fresh clone on a fresh machine
# runs `make test` and nothing else (that is what .ci/run does).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
BIN         := $(abspath $(VENV))/bin
PYTHON_VER  := 3.11
BUILD       := .build
COLL_ROOT   := $(abspath $(BUILD))/collections
COLL_DIR    := $(COLL_ROOT)/ansible_collections/baremetal/metallb
STAMPS      := $(BUILD)/stamps
VERSION     := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL     := dist/baremetal-metallb-$(VERSION).tar.gz

# Tools from .venv and the collections from .build/collections, whatever the caller's environment.
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
export ANSIBLE_NOCOLOR := $(if $(CI),1,)
export PYTHONDONTWRITEBYTECODE := 1
export VIRTUAL_ENV := $(abspath $(VENV))

COLLECTION_SOURCES := galaxy.yml meta/runtime.yml $(shell git ls-files --cached --others --exclude-standard -- plugins roles playbooks meta tests changelogs docs README.md 2>/dev/null)

.PHONY: help
help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- set-up
.PHONY: setup
setup: $(STAMPS)/system $(STAMPS)/python $(STAMPS)/collections $(STAMPS)/ansible-test-pip

$(STAMPS)/system: tools/setup-system.sh
	bash tools/setup-system.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/python: tools/setup-python.sh test-requirements.txt requirements.txt tests/constraints.txt
	VENV=$(VENV) bash tools/setup-python.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/collections: tools/install-collections.sh $(STAMPS)/python
	VENV=$(VENV) COLLECTIONS_DIR=$(COLL_ROOT) bash tools/install-collections.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/ansible-test-pip: tools/seed-ansible-test-pip.sh $(STAMPS)/python
	VENV=$(VENV) bash tools/seed-ansible-test-pip.sh
	@mkdir -p $(STAMPS) && touch $@

# helm for kubernetes.core.helm (metallb_install's Helm path), built from the Go module proxy
$(STAMPS)/helm: tools/install-helm.sh $(STAMPS)/python
	VENV=$(VENV) bash tools/install-helm.sh
	@mkdir -p $(STAMPS) && touch $@

# mermaid-cli (mmdc, pinned by tools/mermaid/package-lock.json) driving Debian's chromium:
# the integration test that renders every diagram the verify report can draw
$(STAMPS)/mermaid: tools/install-mermaid.sh tools/mermaid/package-lock.json $(STAMPS)/system
	bash tools/install-mermaid.sh
	@mkdir -p $(STAMPS) && touch $@

.PHONY: constraints
constraints: $(STAMPS)/python
	{ sed -n '1,2p' tests/constraints.txt; $(BIN)/pip freeze --exclude-editable; } > tests/constraints.txt.new
	mv tests/constraints.txt.new tests/constraints.txt

# ---------------------------------------------------------------- build
# Build the tarball users would install, and install it where playbooks and
# ansible-test find it: what we test is what we ship.
.PHONY: collection
collection: $(STAMPS)/installed

$(TARBALL): $(STAMPS)/python $(COLLECTION_SOURCES)
	@mkdir -p dist
	ansible-galaxy collection build --force --output-path dist . >/dev/null
	@echo "built $@"

$(STAMPS)/installed: $(TARBALL) $(STAMPS)/collections
	rm -rf $(COLL_DIR)
	ansible-galaxy collection install --no-deps --force -p $(COLL_ROOT) $(TARBALL) >/dev/null
	@echo "installed baremetal.metallb $(VERSION) into $(COLL_ROOT)"
	@touch $@

# ---------------------------------------------------------------- main job
# The lab (network namespaces, a real Kubernetes control plane, kwok nodes, real MetalLB
# and FRR), then site.yml (validate -> router -> install -> configure -> label ->
# workloads -> verify) with inventories/lab/metallb.yml. The first run builds Kubernetes,
# etcd, kwok and MetalLB from the Go module proxy (~20 min on 2 cores, with progress).
REPORT := $(CURDIR)/reports/metallb-verify.md
.PHONY: demo validate
demo: setup collection lab-up
	ansible-playbook -i inventories/lab playbooks/site.yml -e lb_verify_report_path=$(REPORT)
	@echo "make demo: the verification report is $(REPORT)"

# Only the pool validation of the sample inventory (no lab, no cluster).
validate: setup collection
	ansible-playbook -i inventories/example playbooks/validate.yml

# ---------------------------------------------------------------- tests
.PHONY: test
test: setup collection docs-lint lint sanity units integration molecule
	@echo "make test: all suites passed"

.PHONY: lint
lint: setup
	ansible-lint --offline --profile production

# ansible-test walks up to the first .git and then sees only files git tracks,
# so it runs on a copy of the installed collection outside this checkout.
TEST_ROOT := $(or $(TMPDIR),/tmp)/baremetal-metallb-ansible-test-$(shell echo $(CURDIR) | md5sum | cut -c1-8)
TEST_COLL := $(TEST_ROOT)/ansible_collections/baremetal/metallb

.PHONY: test-tree
test-tree: collection
	rm -rf $(TEST_ROOT) && mkdir -p $(TEST_ROOT)/ansible_collections/baremetal $(TEST_ROOT)/ansible_collections/kubernetes
	cp -a $(COLL_DIR) $(TEST_COLL)
	cp -a $(COLL_ROOT)/ansible_collections/kubernetes/core $(TEST_ROOT)/ansible_collections/kubernetes/core

# The collection's documentation as Ansible's own collections lint theirs (antsibull-docs): every plugin's
# and role's DOCUMENTATION/EXAMPLES/RETURN and meta/argument_specs.yml against the schema, their markup,
# and every reference to a plugin, option or return value of this collection, ansible.builtin or
# kubernetes.core (its dependency); a reference to any other collection is refused, since users need
# not have it. On the copy of the installed collection, like sanity.
.PHONY: docs-lint
docs-lint: setup test-tree
	cd $(TEST_COLL) && ANSIBLE_COLLECTIONS_PATH=$(TEST_ROOT) antsibull-docs lint-collection-docs --plugin-docs \
	  --validate-collection-refs dependent --disallow-unknown-collection-refs .

.PHONY: sanity
sanity: setup test-tree
	cd $(TEST_COLL) && ansible-test sanity --requirements --python $(PYTHON_VER) --color no

.PHONY: units
# helm: the release plan's unit cases render MetalLB's real chart in every flavour.
units: setup test-tree $(STAMPS)/helm
	cd $(TEST_COLL) && ansible-test units --requirements --python $(PYTHON_VER) --color no

# Fast inner loop: the working tree itself as the collection (a symlink), plain pytest.
.PHONY: dev-units
dev-units: setup $(STAMPS)/helm $(BUILD)/dev/ansible_collections/baremetal/metallb
	PYTHONPATH=$(abspath $(BUILD))/dev:$(COLL_ROOT) pytest -p no:cacheprovider -q tests/unit

$(BUILD)/dev/ansible_collections/baremetal/metallb:
	mkdir -p $(dir $@) && ln -sfn $(CURDIR) $@

# The tests that need no lab (tests/integration/conftest.py: NO_LAB) first, without lab-build.
.PHONY: integration integration-no-lab integration-lab
integration: integration-no-lab integration-lab

integration-no-lab: setup collection $(STAMPS)/helm $(STAMPS)/mermaid
	pytest -p no:cacheprovider -m no_lab tests/integration

integration-lab: setup collection lab-build $(STAMPS)/helm $(STAMPS)/mermaid
	pytest -p no:cacheprovider -m "not no_lab" tests/integration

# ---------------------------------------------------------------- lab
# The network-namespace lab (see lab/README.md). Root only.
# lab-up: the network lab, then the Kubernetes control plane + kwok nodes in it
# (lab/cluster/README.md); lab-metallb applies MetalLB's release manifest (the lab then runs
# the real controller and speakers for its pods).
LAB_NODES ?= 3
.PHONY: lab-up lab-down lab-status lab-build lab-metallb
lab-up: $(STAMPS)/system $(STAMPS)/python lab-build
	python3 lab/labctl.py up --nodes $(LAB_NODES)
	python3 lab/clusterctl.py up

lab-down:
	python3 lab/clusterctl.py down
	python3 lab/labctl.py down

lab-status:
	python3 lab/labctl.py status
	python3 lab/clusterctl.py status

lab-metallb:
	python3 lab/clusterctl.py metallb

# Kubernetes, etcd, kwok, MetalLB and frr-k8s (the version MetalLB's go.mod pins)
# from the Go module proxy: about 20 minutes cold on 2 cores (frr-k8s adds about a
# minute: it shares most packages with MetalLB), with progress; cached by version.
lab-build: $(STAMPS)/system
	python3 lab/clusterctl.py build --metallb --frr-k8s

# Molecule 26 ansible-native scenarios against the lab (root): create = lab up,
# converge, idempotence (changed=0), verify, destroy = lab down.
MOLECULE_SCENARIOS := $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
.PHONY: molecule
molecule: setup collection
	for scenario in $(MOLECULE_SCENARIOS); do molecule test -s $$scenario || exit 1; done

# ---------------------------------------------------------------- benchmarks
.PHONY: bench
bench: setup collection
	python bench/pool_validate_bench.py
	python bench/leader_verify_bench.py
	python bench/bgp_convergence.py
	python bench/node_labels_bench.py
	python bench/site_rerun_bench.py
	python bench/scale_bench.py

# ---------------------------------------------------------------- clean
.PHONY: clean
clean:
	rm -rf $(BUILD)/collections/ansible_collections/baremetal dist $(STAMPS)/installed tests/output
