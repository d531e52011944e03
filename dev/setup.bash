# Source this to work by hand: venv, the colcon overlay, models, and loopback-only discovery.
#   source dev/setup.bash                 # ROS 2 Kilted (the default)
#   DISTRO=jazzy source dev/setup.bash    # ROS 2 Jazzy (.venv-jazzy, install-jazzy/)
_fs_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
source "$_fs_root/dev/distro.bash" || return 1
# shellcheck disable=SC1091
source "$_fs_root/$FS_VENV/bin/activate"
if [ -f "$_fs_root/$FS_INSTALL/local_setup.bash" ]; then
  # The overlay scripts read unset variables; keep a caller's `set -u` from failing.
  _fs_u=$-; set +u
  # shellcheck disable=SC1091
  source "$_fs_root/$FS_INSTALL/local_setup.bash"
  case $_fs_u in *u*) set -u;; esac
fi
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export RMW_IMPLEMENTATION=${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}
# What a ROS install's setup.bash sets; the launch files and dev/processes.py read it.
export ROS_DISTRO=$FS_DISTRO
# The colcon install directory of this distro: the tests run the console scripts from it.
export FACESENSE_INSTALL_DIR=$_fs_root/$FS_INSTALL
# Our console scripts by their bare names, as README shows them (facesense_models list, ...):
# an ament_python package installs them in lib/<package>, where `ros2 run` finds them but the
# overlay's setup script puts nothing on PATH. Added once, however often this file is sourced.
_fs_lib=$FACESENSE_INSTALL_DIR/facesense_ros/lib/facesense_ros
case ":$PATH:" in *":$_fs_lib:"*) ;; *) export PATH="$_fs_lib:$PATH";; esac
# These machines must never discover (or multicast) beyond loopback. Jazzy and Kilted read
# ROS_AUTOMATIC_DISCOVERY_RANGE; Jazzy's rcl warns at every process start when the older
# ROS_LOCALHOST_ONLY is set as well (Kilted ignores it), so that one is left out.
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
unset ROS_LOCALHOST_ONLY
# A domain of our own so that runs on one machine do not see each other (0..101 are safe).
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( ($$ % 90) + 5 ))}
if [ -z "${FACESENSE_MODEL_DIR:-}" ] && [ -d "$_fs_root/../shared/models/intel" ]; then
  export FACESENSE_MODEL_DIR=$(cd "$_fs_root/../shared/models" && pwd)
fi
export PYTHONDONTWRITEBYTECODE=1
unset _fs_root _fs_u _fs_lib FS_SUFFIX FS_REQUIREMENTS FS_PYTHON FS_DISTRO FS_VENV FS_BUILD FS_INSTALL FS_LOG FS_ROS2_BRANCH
