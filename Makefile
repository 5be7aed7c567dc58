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

.PHONY: install demo test lint format check pytest clean

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

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
