# Everything a fresh machine needs, from two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
# Values a production deployment would set, for `check --deploy`.
DEPLOY_ENV := DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	ALLOWED_HOSTS=reviewer.example.com CSRF_TRUSTED_ORIGINS=https://reviewer.example.com
DEMO_ENV := DEBUG=true CUSTOMVISION_ENDPOINT=http://127.0.0.1:5010 \
	CUSTOMVISION_TRAINING_KEY=emulator-demo-key
TEST_ENV := DEBUG=false SECRET_KEY=test-only-not-secret SECURE_SSL_REDIRECT=false

.PHONY: install demo test lint format check pytest bench load clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

demo: install
	$(DEMO_ENV) $(BIN)/python manage.py run_demo

test: lint check pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

pytest: install
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# The five figures of the README, on the local PostgreSQL (BENCH_POSTGRES_URL);
# each benchmark exits non-zero when it misses its target. Not part of `make test`.
BENCHMARKS := packing sync review page_weight promotion

bench: install
	@status=0; for name in $(BENCHMARKS); do \
		echo "== $$name"; $(BIN)/python -m benchmarks.$$name || status=1; \
	done; exit $$status

# The full load test: twenty annotators for a minute through gunicorn on PostgreSQL.
load: install
	$(BIN)/python -m benchmarks.load_review

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
