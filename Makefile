# facesense_ros development commands. Each sets up what it needs first (idempotent, quick when
# nothing changed). Every ROS process they start is loopback-only (dev/setup.bash).
# DISTRO=jazzy selects the ROS 2 Jazzy environment (.venv-jazzy, install-jazzy/) for any target;
# Kilted is the default (dev/distro.bash).
.PHONY: env test demo bench soak lint clean
DISTRO ?= kilted
export DISTRO

env:
	@./dev/make_env.sh

test: env
	@./dev/run.sh ./dev/run_tests.sh

lint: env
	@./dev/run.sh python -m pytest -q test/test_flake8.py test/test_pep257.py test/test_copyright.py

demo: env
	@./dev/run.sh python dev/demo.py

bench: env
	@./dev/run.sh python bench/bench.py
	@./dev/run.sh python bench/gallery_bench.py
	@./dev/run.sh python bench/identity_bench.py

soak: env
	@./dev/run.sh python -m pytest -v -m soak test

clean:
	rm -rf build install log .venv build-jazzy install-jazzy log-jazzy .venv-jazzy demo_output bench_output
