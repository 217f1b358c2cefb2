# qbox: `make demo` sets up and runs the simulated branch; `make test` sets up and runs every test.
# Both work on a fresh Debian 12 machine as root and skip what is already done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# What running qbox needs, and what its tests use as real peers.
APT_RUN := build-essential python3-dev python3-venv libasound2-dev alsa-utils espeak-ng sox
APT_TEST := openssh-server tshark libpri-dev libspandsp-dev dahdi-dkms dahdi socat multimon-ng \
            iproute2 procps tmux
# The provisioning tests' boxes run qbox on Debian's Python with Debian's libraries, as the image does.
APT_TEST += python3-yaml python3-serial python3-pyudev python3-alsaaudio python3-scapy
# The appliance image (images/) and the qemu DUT that boots it (hil_tests/qemu.py).
APT_TEST += mmdebstrap qemu-system-x86 e2fsprogs

PYX := $(wildcard cython_ext/*.pyx cython_ext/*.pxd cython_ext/*.h)

.PHONY: demo test setup setup-test build clean image

demo: setup
	$(VENV)/bin/qbox demo

test: setup-test
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

setup: $(VENV)/.apt-run $(VENV)/.installed $(VENV)/.built

setup-test: setup $(VENV)/.apt-test

# The stamps depend on the Makefile so a package added to a list is installed on the next run.
$(VENV)/.apt-run: scripts/apt-install Makefile | $(VENV)/bin/python
	scripts/apt-install $(APT_RUN)
	touch $@

$(VENV)/.apt-test: scripts/apt-install Makefile | $(VENV)/bin/python
	scripts/apt-install $(APT_TEST)
	touch $@

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || scripts/apt-install python3 python3-venv
	$(PYTHON) -m venv $(VENV) || { scripts/apt-install python3-venv && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: pyproject.toml setup.py | $(VENV)/.apt-run
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.built

# Rebuild the Cython kernels in place when a .pyx changes (seconds, not a reinstall).
$(VENV)/.built: $(PYX) | $(VENV)/.installed
	$(PY) setup.py -q build_ext --inplace
	touch $@

build: $(VENV)/.built

# The appliance image: a Debian base with the DAHDI driver (cached outside the checkout by a hash
# of images/base/, so an unchanged recipe is built once) and this checkout's qbox wheel.
image: setup-test
	$(PY) images/build.py

clean:
	rm -rf build $(VENV) *.egg-info cython_ext/*.c cython_ext/*.so
