# The two commands a newcomer needs (see README.md):
#   make demo   distributed render of the bundled demo scene -> out/demo.png + summary
#   make test   the whole test suite
# Both create .venv, install the package with its test extras and build the C parts;
# both are safe to run again.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.stamp-installed

.PHONY: all setup native ports demo test lint bench clean
all: native

$(STAMP): pyproject.toml setup.py
	./scripts/bootstrap-venv $(PY) $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

setup: $(STAMP)

native: $(STAMP)
	$(MAKE) -s -C c

# Real programs from Debian's source packages built for the sandbox (fetched once, cached in
# ~/.cache/cpushare-mq): see c/ports/Makefile. The tests in tests/libc need them.
ports: native
	$(MAKE) -s -C c/ports

demo: native
	$(BIN)/cpushare-povray render examples/demo.pov -W 640 -H 480 -o out/demo.png

test: native ports
	./scripts/install-test-packages
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check cpushare_mq tests bench

clean:
	$(MAKE) -s -C c clean
	rm -rf $(VENV) build *.egg-info out
