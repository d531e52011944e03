#!/usr/bin/env bash
# Run a command inside the development environment (venv, overlay, models, loopback-only ROS).
set -eo pipefail
# shellcheck disable=SC1091
source "$(dirname "$0")/setup.bash"
exec "$@"
