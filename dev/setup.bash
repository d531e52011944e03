# Source this to work by hand: venv, the colcon overlay, models, and loopback-only discovery.
#   source dev/setup.bash
_fs_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
source "$_fs_root/.venv/bin/activate"
if [ -f "$_fs_root/install/local_setup.bash" ]; then
  # The overlay scripts read unset variables; keep a caller's `set -u` from failing.
  _fs_u=$-; set +u
  # shellcheck disable=SC1091
  source "$_fs_root/install/local_setup.bash"
  case $_fs_u in *u*) set -u;; esac
fi
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export RMW_IMPLEMENTATION=${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}
# These machines must never discover (or multicast) beyond loopback.
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_LOCALHOST_ONLY=1
# A domain of our own so that runs on one machine do not see each other (0..101 are safe).
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( ($$ % 90) + 5 ))}
if [ -z "${FACESENSE_MODEL_DIR:-}" ] && [ -d "$_fs_root/../shared/models/intel" ]; then
  export FACESENSE_MODEL_DIR=$(cd "$_fs_root/../shared/models" && pwd)
fi
export PYTHONDONTWRITEBYTECODE=1
unset _fs_root _fs_u
