# Set-up in two commands: `make demo` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench fixtures schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the project's dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,tf,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m qcheck_tf.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check qcheck plugins tests bench tools fixtures
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

fixtures: $(STAMP)
	$(BIN)/python fixtures/make_fixtures.py

# After upgrading ai-edge-litert: regenerate qcheck/tflite/schema_generated.py from its schema module.
schema: $(STAMP)
	$(BIN)/python tools/generate_schema.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
