# Everything runs on the Node 24 that npm installs into node_modules/.bin (never the machine's).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.DEFAULT_GOAL := help
.PHONY: help deps build typecheck lint test test-unit test-integration sim chaos bench tools run stop status clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@node -e 'const [major, minor] = process.versions.node.split(".").map(Number); if (major < 22 || (major === 22 && minor < 19)) { console.error(`node $${process.version} is too old (node_modules/.bin/node missing?)`); process.exit(1); }'
	@touch $@

deps: node_modules/.installed ## install the npm dependencies (Node 24 included)

build: deps ## compile src/ to dist/
	npm run build

typecheck: deps ## type-check everything (src, tests, benchmarks)
	npm run typecheck

lint: deps ## eslint, no warnings allowed
	npm run lint

test-unit: deps ## unit tests (pure code, no control plane)
	npm run test:unit

SEEDS ?= 2000
sim: deps ## deterministic simulation of the run protocol: SEEDS=n episodes (default 2000), SEED=n replays one with its trace
	SEEDS=$(SEEDS) SEED=$(SEED) FIRST=$(or $(FIRST),1) npm run --silent sim

chaos: deps ## randomized faults against the built operator on a real control plane: EPISODES=n FIRST=n | SEED=n, PROFILE=short|production, RESUME=1
	npm run --silent build
	hack/tools.sh all >/dev/null
	npm run --silent chaos

bench: deps ## the whole benchmark suite (about an hour): results in bench/results/<date>-<commit>/; BENCH_ONLY=name,name for a subset
	hack/tools.sh all >/dev/null
	hack/bench.sh

tools: ## build the control-plane binaries into the cache (slow once, then instant)
	hack/tools.sh all

test-integration: deps tools ## integration tests against a local control plane
	npm run test:integration

test: ## everything CI checks: type check, lint, build, unit, simulation, integration, chart, e2e tests and a chaos slice
	hack/test-all.sh

run: deps ## start a local control plane (or use the cluster in KUBECONFIG) and show how to use it
	@hack/run.sh

stop: ## stop the local control plane `make run` started
	@CP_STATE_DIR=$${OAAT_RUN_STATE:-$${TMPDIR:-/tmp}/oaat-run} hack/control-plane.sh stop

status: ## show the local control plane `make run` started
	@CP_STATE_DIR=$${OAAT_RUN_STATE:-$${TMPDIR:-/tmp}/oaat-run} hack/control-plane.sh status || true

clean: ## remove build output (the tool cache stays: hack/tools.sh info shows it)
	rm -rf dist coverage

# --- Helm chart, plain manifests, image, end-to-end (charts/oaat-operator) ---
.PHONY: gen-manifests test-chart e2e-local e2e image docker-build crds-upgrade release
IMG ?= oaat-operator:$(shell node -p 'require("./package.json").version' 2>/dev/null || echo dev)

gen-manifests: deps ## write the chart's CRD template from config/crd/ and render config/rbac, config/manager from it (needs helm: built once)
	npm run gen:manifests

test-chart: deps ## helm lint/template of the chart, its values schema, up-to-date generated manifests, make release's checks, actionlint of .github/workflows, promtool of the alerts
	hack/tools.sh helm
	hack/tools.sh actionlint-path >/dev/null
	hack/tools.sh promtool-path >/dev/null
	npm run test:chart

e2e-local: deps ## chart + operator end to end on a local T2 control plane, no container engine (see hack/e2e-local.sh)
	hack/e2e-local.sh

e2e: deps ## the e2e suites of e2e-local in kind: image archive loaded, chart Deployment (needs a container engine and kind; see hack/e2e.sh)
	hack/e2e.sh

image: deps ## the OCI image archive dist/oaat-operator-<version>.oci.tar, reproducibly, without a container engine (hack/image.sh)
	hack/image.sh

docker-build: ## build the operator image IMG (needs a container engine)
	@docker info >/dev/null 2>&1 || { echo "make docker-build: no container engine: 'docker info' failed (start Docker, or use Podman's docker CLI); 'make image' builds the image without one" >&2; exit 1; }
	docker build --build-arg VERSION=$(lastword $(subst :, ,$(IMG))) -t $(IMG) .

crds-upgrade: ## apply config/crd/ to the cluster in KUBECONFIG (CRDs no Helm release owns; a release with crds.enabled upgrades its own)
	kubectl apply --server-side --force-conflicts -f config/crd/

release: deps ## image archive, chart and SHA256SUMS in release/<version>/; stops first if package.json, Chart.yaml, CHANGELOG.md, TAG=vX.Y.Z disagree
	hack/release.sh $(if $(TAG),--tag $(TAG))
