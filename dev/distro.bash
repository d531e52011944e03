# Sourced by dev/make_env.sh and dev/setup.bash: where the environment of the ROS 2 distro
# selected by $DISTRO lives. Kilted (the default) keeps the historical .venv, build/, install/;
# every other distro gets directories of its own beside it, so the two never mix.
#   DISTRO=jazzy make test        DISTRO=jazzy source dev/setup.bash
_fs_distro=${DISTRO:-kilted}
case $_fs_distro in
  kilted)
    FS_SUFFIX=''
    FS_REQUIREMENTS=dev/requirements.txt
    # Kilted's wheels are cp311, the Python of these Debian 12 machines.
    FS_PYTHON=${PYTHON:-python3}
    # launch and ros2cli from ../shared/vendor/ros2 (no kilted branch there; docs/distros.md).
    FS_ROS2_BRANCH=${FACESENSE_ROS2_BRANCH:-rolling}
    ;;
  jazzy)
    FS_SUFFIX=-jazzy
    FS_REQUIREMENTS=dev/requirements-jazzy.txt
    # Jazzy's own Python (Ubuntu 24.04); pyenv's python3.12 shim refuses to run here, so the
    # interpreter is named by its path when pyenv has it.
    if [ -z "${PYTHON:-}" ] && command -v pyenv > /dev/null \
       && [ -x "$(pyenv root)/versions/3.12.1/bin/python3.12" ]; then
      FS_PYTHON=$(pyenv root)/versions/3.12.1/bin/python3.12
    else
      FS_PYTHON=${PYTHON:-python3.12}
    fi
    FS_ROS2_BRANCH=${FACESENSE_ROS2_BRANCH:-jazzy}
    ;;
  *)
    echo "DISTRO=$_fs_distro: expected kilted (the default) or jazzy" >&2
    return 1
    ;;
esac
FS_DISTRO=$_fs_distro
FS_VENV=.venv$FS_SUFFIX
FS_BUILD=build$FS_SUFFIX
FS_INSTALL=install$FS_SUFFIX
FS_LOG=log$FS_SUFFIX
unset _fs_distro
