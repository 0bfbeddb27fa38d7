# One way to run each thing; each target installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8787
TOKEN ?= vps_demo_token
STAMP := $(VENV)/.installed

.PHONY: install stubs cli tofu hosts sdks dist generate test lint docs fake demo bench clean

# The package with its dev extra, and beside it the development package in
# dev/ (vpsbackup_dev: the engine harness, the provider-host driver and the CLI
# project helpers that the tests, bench/ and scripts/ import; and bench
# itself), which is never published. Both editable; re-installs only when the
# packaging changes. Then the Terraform plugin protocol's Python stubs, which
# pulumi_vpsbackup.terraform imports and which are never committed
# (tools/tfproto.sh, with grpcio-tools from the dev extra; `make stubs`).
$(STAMP): setup.py pyproject.toml dev/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./dev
	tools/tfproto.sh $(BIN)/python
	touch $(STAMP)

# Regenerated when tools/tfproto.sh or the OpenTofu pin (tools/tofu/go.mod)
# changes, and when the stubs were removed: the script compares a hash of both
# with the one it wrote beside the stubs, and does nothing while they match.
# Needs Go, which fetches the pinned module (the .proto is inside it).
stubs: $(STAMP)
	@tools/tfproto.sh $(BIN)/python

install: $(STAMP) stubs

# The Pulumi CLI the tests run, built from Go modules at the version that
# tools/pulumi-cli/go.mod pins, into a cache outside the work tree (reused when
# present; VPSBACKUP_CLI_CACHE moves it). Its last line is the directory.
cli:
	@tools/pulumi-cli/build.sh

# The OpenTofu CLI (tofu) that the Terraform provider's tests run, built from
# Go modules at the version that tools/tofu/go.mod pins, into the same cache
# (reused when present). Its last line is the directory holding tofu; `make
# test` passes it to the tests as VPSBACKUP_TOFU_DIR.
tofu:
	@tools/tofu/build.sh

# Three of Pulumi's real language hosts, peers of the stand-in in the tests:
# its Go Python host of sdk/v3 v3.79.0, its YAML host (pulumi-yaml) and its Go
# host of sdk/v3 v3.66.0 (Go programs run only under it), at the
# versions tools/hosts/*/go.mod pin, built into the same cache (reused when
# present), beside a hard link of the CLI above. Its last line is the
# directory to put first on PATH for the CLI to run them (tools/hosts/build.sh
# says why); `make test` passes it to the tests as VPSBACKUP_HOSTS_DIR.
hosts:
	@tools/hosts/build.sh

# The native plugin's SDKs, generated offline from its schema by that CLI
# (`pulumi package gen-sdk`), in build/sdks (reused while the schema and the
# generator are unchanged): Python (installed into the virtualenv, whose
# version it reads from its metadata) and TypeScript (compiled, packed as
# build/sdks/pulumi-vpsbackup-native.tgz for npm) and Go (a module in
# build/sdks/go). Needs Node.js, npm and Go.
sdks: install
	@tools/build_sdks.sh build/sdks >/dev/null
	@cmp -s build/sdks/.key $(VENV)/.native-sdk || { \
	  $(BIN)/python -m pip install --quiet --no-deps --force-reinstall \
	    --disable-pip-version-check build/sdks/python && \
	  cp build/sdks/.key $(VENV)/.native-sdk; }

# What a user installs, in dist/: the package's wheel and sdist, the native
# SDKs (Python wheel, npm tarball, Go module tarball), the plugin archive
# pulumi-resource-vpsbackup-v<version>-linux-amd64.tar.gz and the OpenTofu/
# Terraform provider terraform-provider-vpsbackup_<version>_linux_amd64.zip
# (with its _SHA256SUMS), which run on a machine with only python3 (see
# tools/build_dist.sh). About 30 s once pip's cache and the dependency cache
# (~/.cache/pulumi-vpsbackup/dist) are warm.
dist: install
	@PYTHON=$(BIN)/python tools/build_dist.sh dist >/dev/null

# What each resource's declaration (pulumi_vpsbackup/provider/<resource>/declaration.py)
# implies: its generated.py (XxxArgs, typed outputs, constructor), its entry in
# the plugin's schema.json, and the Terraform Registry docs (docs/terraform/, with
# the HCL of examples/terraform/). Run after editing a declaration or an example;
# tests/test_generated.py fails while the committed output is stale.
generate: install
	$(BIN)/python tools/generate.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tools/build_docs.py build/docs

# The API reference from the docstrings (pdoc), in build/docs (not committed);
# a warning about our docstrings fails it (see tools/build_docs.py).
docs: install
	$(BIN)/python tools/build_docs.py build/docs

# The whole suite, with the built CLI first on PATH (tests/cli need it), the
# real hosts' directory in VPSBACKUP_HOSTS_DIR (tests/cli/test_real_hosts_cli.py)
# and the directory holding tofu in VPSBACKUP_TOFU_DIR (tests/terraform), in two
# pytest processes side by side (tools/run_tests.sh says which tests go where;
# VPSBACKUP_TEST_JOBS=1 runs them one after the other). PYTEST_ARGS runs one
# pytest with those arguments instead, e.g. PYTEST_ARGS=tests/terraform.
test: lint sdks
	@cli="$$(tools/pulumi-cli/build.sh)" && hosts="$$(tools/hosts/build.sh)" && \
	tofu="$$(tools/tofu/build.sh)" && \
	echo "PATH += $$cli" && echo "VPSBACKUP_HOSTS_DIR = $$hosts" && \
	echo "VPSBACKUP_TOFU_DIR = $$tofu" && \
	PATH="$$cli:$$PATH" VPSBACKUP_HOSTS_DIR="$$hosts" VPSBACKUP_TOFU_DIR="$$tofu" \
	  PYTHON=$(BIN)/python tools/run_tests.sh $(PYTEST_ARGS)

fake: install
	$(BIN)/python -m pulumi_vpsbackup.fake --port $(PORT) --token $(TOKEN)

# With the CLI that `make cli` builds; when it is not built yet, the demo says
# so and how long the first build takes before building it (scripts/demo.py).
demo: install
	$(BIN)/python scripts/demo.py --build-cli --port $(PORT) --token $(TOKEN)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist pulumi_vpsbackup/terraform/tfplugin6 *.egg-info dev/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/results
