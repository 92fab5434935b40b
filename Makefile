# lvs.cluster: the one entry point. `make help` lists the targets.
#
#   make test                      everything: static checks, unit tests, every
#                                  Molecule scenario in the lab VM
#   make lab-test SCENARIO=name    one scenario in the lab VM
#   make demo                      a working cluster in the lab, with traffic
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
SCENARIO ?= smoke
LAB := $(PYTHON) lab/lab.py

.DEFAULT_GOAL := help
MODULES := $(basename $(notdir $(wildcard plugins/modules/*.py)))
ROLES := $(notdir $(wildcard roles/*))
FILTERS := $(basename $(notdir $(wildcard plugins/filter/*.py)))
BIN := $(abspath $(VENV))/bin
# The ansible-core lines tested, oldest first: .venv has the newest, make compat
# the others. The oldest is meta/runtime.yml's requires_ansible, and README's
# support matrix names them all (hacking/check_support.py fails on drift).
CORE_LINES := 2.17 2.18 2.19
COMPAT := .venv-compat
COMPAT_LINES := $(filter-out $(lastword $(CORE_LINES)),$(CORE_LINES))

.PHONY: help test checks static generated lint sanity docs galaxy install-test units mutants mutants-ci compat lab-selftest lab-captures captures lab-image lab-test lab-tests lab-bench demo bench diagrams host-packages lab-info clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

test: host-packages ## everything (what CI runs): the checks beside the lab's scenarios
	@# The scenarios (a VM per core) need no host venv and start at once; the
	@# static checks, unit tests and lab self-tests run beside them, and on a cold
	@# run also beside the image and kernel builds. No output sync: it would hold
	@# the scenarios' lines (each tagged with its VM) until the last one ends.
	$(MAKE) --no-print-directory -j2 checks lab-tests

checks: ## the static checks, the unit tests (on every ansible-core line) and their mutation sample, then the lab's self-tests and captures
	$(MAKE) --no-print-directory -j1 static units mutants-ci compat lab-selftest lab-captures

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

static: lint sanity docs galaxy install-test ## every static check
	$(BIN)/python hacking/generate.py --check
	$(BIN)/python hacking/check_support.py
	$(BIN)/python -m py_compile lab/*.py molecule/*/tests/*.py
	sh -n lab/guest/*.sh lab/image/vm-overlay/usr/local/sbin/lab-init

generated: $(VENV)/.installed ## rewrite the option docs and specs derived from plugins/module_utils/ipvs_schema.py
	$(BIN)/python hacking/generate.py

lint: $(VENV)/.installed ## ansible-lint, production profile, run as a user runs it in a clone
	$(BIN)/ansible-lint

sanity: host-packages $(VENV)/.installed ## ansible-test sanity (no ignore entries)
	@test ! -s tests/sanity/ignore-2.19.txt || { echo "sanity: ignore entries are not allowed"; exit 1; }
	@# without shellcheck, ansible-test skips its shellcheck test with only a warning
	@command -v shellcheck >/dev/null || { echo "sanity: shellcheck is missing (make host-packages installs it)"; exit 1; }
	dir=$$(bash tests/utils/ansible-test-env.sh) && cd "$$dir" && \
	  PATH="$(BIN):$$PATH" ansible-test sanity --venv --python 3.11

docs: $(VENV)/.installed ## every module, role and filter renders with ansible-doc
	dir=$$(bash tests/utils/ansible-test-env.sh) && \
	  for m in $(MODULES); do \
	    ANSIBLE_COLLECTIONS_PATH="$${dir%/ansible_collections/*}" $(BIN)/ansible-doc lvs.cluster.$$m >/dev/null || exit 1; \
	    echo "ansible-doc lvs.cluster.$$m: ok"; done; \
	  for r in $(ROLES); do \
	    ANSIBLE_COLLECTIONS_PATH="$${dir%/ansible_collections/*}" $(BIN)/ansible-doc -t role lvs.cluster.$$r >/dev/null || exit 1; \
	    echo "ansible-doc -t role lvs.cluster.$$r: ok"; done; \
	  for f in $(FILTERS); do \
	    ANSIBLE_COLLECTIONS_PATH="$${dir%/ansible_collections/*}" $(BIN)/ansible-doc -t filter lvs.cluster.$$f >/dev/null || exit 1; \
	    echo "ansible-doc -t filter lvs.cluster.$$f: ok"; done

galaxy: $(VENV)/.installed ## build the collection; Galaxy's importer and antsibull-docs accept it
	rm -rf build && mkdir -p build/importer
	$(BIN)/ansible-galaxy collection build --output-path build .
	@# Galaxy requires a `repository`, which galaxy.yml leaves out until the project has a public
	@# home: until then the importer checks a build whose galaxy.yml says so in its place.
	dir=$$(bash tests/utils/ansible-test-env.sh) && \
	  if ! grep -q '^repository:' "$$dir/galaxy.yml"; then \
	    echo "galaxy: galaxy.yml names no repository: Galaxy refuses the upload until it does"; \
	    echo 'repository: no public repository yet' >> "$$dir/galaxy.yml"; fi && \
	  $(BIN)/ansible-galaxy collection build --output-path build/importer "$$dir"
	@# in build/importer/: the importer writes its importer_result.json to the working folder
	cd build/importer && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/utils/galaxy-importer.cfg PATH="$(BIN):$$PATH" \
	  $(BIN)/python -m galaxy_importer.main lvs-cluster-*.tar.gz 2>&1 | tee importer.log
	@! grep -E '^ERROR' build/importer/importer.log
	@grep -q 'Importer processing completed successfully' build/importer/importer.log
	dir=$$(bash tests/utils/ansible-test-env.sh) && cd "$$dir" && \
	  PATH="$(BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$${dir%/ansible_collections/*}" $(BIN)/antsibull-docs lint-collection-docs \
	    --plugin-docs --validate-collection-refs all .

install-test: $(VENV)/.installed ## README.md's install commands, each from a clean clone into an empty collections path
	PATH="$(BIN):$$PATH" $(BIN)/python tests/readme/install.py

units: $(VENV)/.installed ## unit tests
	dir=$$(bash tests/utils/ansible-test-env.sh) && cd "$$dir" && \
	  PYTHONPATH="$${dir%/ansible_collections/*}" $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

mutants: $(VENV)/.installed ## mutation test: every mutant of hacking/mutants.py must fail a unit test (2 at a time)
	$(BIN)/python hacking/mutate.py --jobs 2

# one at a time: under make test, the lab's VMs have the other core
mutants-ci: $(VENV)/.installed ## the mutants marked ci (what make checks runs)
	$(BIN)/python hacking/mutate.py --ci --jobs 1

compat: $(addprefix compat-,$(COMPAT_LINES)) ## unit tests and ansible-test sanity on the older ansible-core lines

# compat-2.17 ...: ansible-test keeps each sanity test's venv (by requirements
# hash) under $HOME/.ansible/test/venv; a HOME in the user cache keeps them
# across CI runs (~/.cache is kept, ~/.ansible is not), so a warm run installs
# nothing. ansible-test-env.sh puts the pip bootstrap stub there too, named for
# the pip version this line of ansible-test pins.
COMPAT_HOME = $${XDG_CACHE_HOME:-$$HOME/.cache}/lvs-cluster-ansible-test
.PHONY: $(addprefix compat-,$(COMPAT_LINES))
$(addprefix compat-,$(COMPAT_LINES)): compat-%: host-packages $(COMPAT)/%/.installed
	@test ! -s tests/sanity/ignore-$*.txt || { echo "compat: ignore entries are not allowed"; exit 1; }
	@command -v shellcheck >/dev/null || { echo "compat: shellcheck is missing (make host-packages installs it)"; exit 1; }
	export PIP_CACHE_DIR="$${PIP_CACHE_DIR:-$$HOME/.cache/pip}" HOME="$(COMPAT_HOME)" && \
	  export LVS_AC_ROOT=/tmp/lvs-ac-$*-$$(printf %s "$(CURDIR)" | md5sum | cut -c1-10) && \
	  export LVS_PIP_VERSION=$$(grep -oP "^\s+pip='\K[0-9.]+" $(COMPAT)/$*/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py) && \
	  dir=$$(bash tests/utils/ansible-test-env.sh) && cd "$$dir" && \
	  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$$LVS_AC_ROOT" $(abspath $(COMPAT))/$*/bin/python -m pytest -q -p no:cacheprovider tests/unit && \
	  PATH="$(abspath $(COMPAT))/$*/bin:$$PATH" ansible-test sanity --venv --python 3.11

$(COMPAT)/%/.installed: tests/requirements-compat.txt
	@# ignored by git without a .gitignore entry (ansible-test-env.sh copies what git does not ignore)
	mkdir -p $(COMPAT) && echo '*' > $(COMPAT)/.gitignore
	rm -rf $(COMPAT)/$* && $(PYTHON) -m venv $(COMPAT)/$*
	$(COMPAT)/$*/bin/pip install -q --disable-pip-version-check -r tests/requirements-compat.txt 'ansible-core==$*.*'
	touch $@

lab-selftest: host-packages $(VENV)/.installed ## the lab runner's contract (status, output, cleanup), real boots
	$(LAB) build
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/lab

# What the unit tests' fakes are checked against (tests/unit/fixtures/README.md):
# ipvsadm's answers and the kernel's netlink answers, captured in one boot.
CAPTURES := ipvsadm_lab.json netlink_lab.json
capture = $(LAB) run -- sh -c 'python3 tests/lab/capture_ipvsadm.py $(1)/ipvsadm_lab.json && \
  python3 tests/lab/capture_netlink.py $(1)/netlink_lab.json'

lab-captures: host-packages ## capture ipvsadm's and the kernel's answers again in the lab; fail where the fixtures differ
	rm -rf build/lab-captures && mkdir -p build/lab-captures
	$(call capture,build/lab-captures)
	@status=0; for f in $(CAPTURES); do \
	  diff -U 10 --label "tests/unit/fixtures/$$f (committed)" --label "$$f (the lab's answers now)" \
	    tests/unit/fixtures/$$f build/lab-captures/$$f || status=1; done; \
	if [ $$status = 0 ]; then echo "lab-captures: the lab answers as the fixtures say"; else \
	  echo "lab-captures: the lab's answers differ from the fixtures the fakes are tested against (above);" \
	    "if the kernel or a capture script changed on purpose, 'make captures' rewrites them"; fi; exit $$status

captures: host-packages ## rewrite the fixtures tests/unit/fixtures/{ipvsadm,netlink}_lab.json from the lab
	$(call capture,tests/unit/fixtures)

lab-image: host-packages ## build the lab images (cached by content)
	$(LAB) build

lab-test: host-packages ## one Molecule scenario in the lab VM (SCENARIO=name)
	$(LAB) run -- sh lab/guest/scenarios.sh $(SCENARIO)

lab-tests: host-packages ## every Molecule scenario, split over lab VMs side by side (LAB_JOBS=n)
	$(LAB) scenarios

lab-bench: host-packages $(VENV)/.installed ## an empty 10-task play timed on the host and in the lab VM, and the ratio
	$(BIN)/python lab/playbench.py --ansible-playbook $(BIN)/ansible-playbook

demo: host-packages ## bring up a cluster in the lab and show requests being balanced
	$(LAB) run -- sh lab/guest/demo.sh

BENCH_SIZES ?= 10,100,1000,5000,2284x16
BENCH_ENGINES ?= static,keepalived
BENCH_OUT ?= benchmarks/results/latest.json
BENCH_MEM ?= 8192
bench: host-packages $(VENV)/.bench ## converge benchmark in the lab (BENCH_SIZES=10,100,1000x8,...), table + plot
	@# 5,000 x 8 needs more than the default 4 GB: Ansible holds the whole model in every worker
	$(LAB) run --mem $(BENCH_MEM) -- python3 benchmarks/converge.py --sizes $(BENCH_SIZES) \
	  --engines $(BENCH_ENGINES) --out $(BENCH_OUT)
	$(BIN)/python benchmarks/plot.py $(BENCH_OUT) docs/images/benchmark.png

$(VENV)/.bench: $(VENV)/.installed benchmarks/requirements.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r benchmarks/requirements.txt
	touch $@

diagrams: ## render docs/diagrams/*.dot to docs/images/*.svg (graphviz)
	for f in docs/diagrams/*.dot; do dot -Tsvg "$$f" -o "docs/images/$$(basename "$${f%.dot}").svg"; done

host-packages: ## install (apt) and check the host packages the checks and the lab build need
	bash lab/host-packages.sh

lab-info: ## the lab's cache, image key, backend, and the kernel: version, seccomp or ptrace mode, why
	$(LAB) info

clean: ## remove local build output (not the lab cache)
	rm -rf .ansible tests/output build $(VENV) $(COMPAT)
