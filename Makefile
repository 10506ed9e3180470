# MediaDesk — `make run` starts the app, `make test` runs the suite. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run` installs what the app needs; the test tools (pytest, moto, mypy...) only for `test`.
APP_STAMP := $(VENV)/.installed-app
JS := tests/js
JS_STAMP := $(JS)/node_modules/.installed
QT_LIBS := libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
	libdbus-1-3 libglib2.0-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xkb1 libpulse0 \
	libwayland-cursor0 libwayland-egl1

.PHONY: run serve test test-verbose lint screenshots bench syslibs clean

# Debian's python3 makes a venv without pip unless python3-venv is installed (a bare `venv`
# then leaves .venv/bin/python behind and fails): installed first, and a venv without pip is
# made again (--clear) rather than kept because its python exists.
$(APP_STAMP): pyproject.toml
	@bash scripts/syslibs.sh python3-venv
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PY) -m venv --clear $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(APP_STAMP)

$(STAMP): pyproject.toml $(APP_STAMP)
	$(BIN)/python -m pip install -q -e . --group dev
	touch $(STAMP)

# Outside JavaScript clients the tests drive (tus-js-client, hls.js, openapi-typescript...).
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	@command -v npm >/dev/null || bash scripts/syslibs.sh nodejs npm
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

syslibs:
	@bash scripts/syslibs.sh $(QT_LIBS)

run: $(APP_STAMP) syslibs
	$(BIN)/mediadesk

serve: $(APP_STAMP)
	$(BIN)/mediadesk serve

# Three workers on two cores: a sixth of the suite waits (restarts, timeouts, browsers, the
# store's retries), so a third worker fills it: 885 s with -n 2, 680 s with -n 3 (2026-12-05).
# A fourth did not help: 887 s against 800 s with three (2,746 tests, 2026-12-05).
#
# The sources are compiled first: the suite starts hundreds of Python processes (servers, the
# command line, the desktop), and where PYTHONDONTWRITEBYTECODE is set (as on our machines)
# each one compiled core/ and server/ again, ~0.25 s of CPU a start. Python still reads the
# .pyc files then, and compiles in memory a source edited since.
#
# --assert=plain: pytest's assertion rewriting re-parsed and compiled every test module in each
# worker (PYTHONDONTWRITEBYTECODE keeps it from caching them): collection took 16 s of CPU a
# worker against 6.3 s plain, ~14 s of the run's wall time on two cores, which is near its 15
# minutes. A failure still shows its line and the assert's own message; `make test-verbose`
# (or plain pytest) gives the values of a failed comparison.
#
# LC_ALL=C.UTF-8: the desktop takes the country of the system's locale for dates (en_GB's
# 07/01/2027); the tests' expected texts are the language's own (en_US for English) whatever
# the machine running them is set to.
#
# --max-worker-restart=2: a worker killed by a native fault (a segfault in a thread of Qt's or
# FFmpeg's own, twice in ~20 runs) is replaced, the rest of its file goes on in the new one, and
# the test it was running runs again there: passed, the run passes and says so
# (tests/worker_crashes.py); crashed again, or any other failure, it fails.
test: $(STAMP) syslibs $(JS_STAMP)
	@bash scripts/syslibs.sh postgresql chromium nginx-light libfuse2 xvfb xauth openbox xdotool pcmanfm ffmpeg
	$(BIN)/python -m compileall -q -j 0 core server desktop_app tests >/dev/null
	QT_QPA_PLATFORM=offscreen QT_LOGGING_RULES='qt.multimedia*=false' LC_ALL=C.UTF-8 \
		$(BIN)/python -m pytest -q -p no:cacheprovider -n 3 --dist loadfile --max-worker-restart=2 --durations=25 $(PYTEST_ASSERT)

PYTEST_ASSERT ?= --assert=plain
test-verbose: PYTEST_ASSERT := --assert=rewrite
test-verbose: test

lint: $(STAMP)
	$(BIN)/ruff check core server desktop_app tests bench
	$(BIN)/ruff format --check core server desktop_app tests bench
	$(BIN)/mypy
	$(BIN)/vulture core server desktop_app tests scripts/vulture_whitelist.py

screenshots: $(APP_STAMP) syslibs
	@bash scripts/syslibs.sh xvfb xauth
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python -m desktop_app.screenshots

# wrk is the load generator and nginx the reference of bench/stream.py: without them it falls
# back to a slower Python client and measures MediaDesk alone
bench: $(STAMP)
	@bash scripts/syslibs.sh wrk nginx-light
	$(BIN)/python bench/stream.py

clean:
	rm -rf $(VENV) *.egg-info
