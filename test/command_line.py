# Copyright 2026 facesense_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Run command lines as users type them (``bash -c``), for the tests of the ``ros2`` command line.

``run`` waits for one; ``run_until`` repeats one while the ROS graph forms; ``Background``
keeps one running in a session of its own and stops it as Ctrl-C does. The commands run in the
test's environment (dev/setup.bash: the venv's ``ros2``, loopback-only discovery).
"""

import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Dict, Optional

import cv2
from facesense_ros.sample_frames import astronaut
import rosutil

README = rosutil.ROOT / 'README.md'
# What ros2cli prints when the graph does not show the node (yet): worth another try.
NODE_NOT_FOUND = 'Node not found'

# Model compilation, discovery and the daemon's start on a shared, busy machine.
STARTUP_TIMEOUT = 180.0
# One ros2 command (discovery of the graph included) on a busy machine.
COMMAND_TIMEOUT = 60.0
# Between retries of a command that waits for the graph (a node not yet discovered).
RETRY_PERIOD = 1.0


def readme_lines():
    """Every command of README.md: code block lines and `inline code` that starts a command."""
    text = README.read_text()
    lines = []
    for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
        lines += [line.split('  #')[0].strip() for line in block.splitlines()]
    lines += re.findall(r'`((?:ros2|facesense_models) [^`]*)`', text)
    return [line for line in lines if line and not line.startswith('#')]


README_LINES = readme_lines()


def readme(line: str) -> str:
    """Return README's ``line`` (failing when README no longer has it)."""
    assert line in README_LINES, f'README.md no longer has: {line}'
    return line


def on_node(command: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    """
    Run a command that addresses a node until ros2cli finds the node; return the last result.

    The daemon's view of the graph can miss a node for a moment on a busy machine; what the
    node itself answered is returned as it is, never retried.
    """
    return run_until(command, lambda d: NODE_NOT_FOUND not in d.stdout, timeout=timeout)


def write_photo() -> Path:
    """Write skimage's astronaut (a real photo, one face) to a new folder; return its path."""
    path = Path(tempfile.mkdtemp(prefix='facesense_cli_')) / 'astronaut.png'
    cv2.imwrite(str(path), astronaut())
    return path


def ros2_executable() -> str:
    """Return the environment's ros2 (fail, never skip, when make env did not install it)."""
    path = shutil.which('ros2')
    assert path, 'ros2 is not on PATH: make env installs ros2cli from ../shared/vendor/ros2'
    return path


def run(command: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    """Run a shell command line as a user types it; output and errors together."""
    return subprocess.run(['bash', '-c', command], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def run_until(command: str, predicate, timeout: float = STARTUP_TIMEOUT):
    """Run ``command`` until ``predicate(result)`` holds (the graph still forming); return it."""
    deadline = time.monotonic() + timeout
    while True:
        done = run(command)
        if predicate(done) or time.monotonic() > deadline:
            return done
        time.sleep(RETRY_PERIOD)


class Background:
    """A command line running in its own session, stopped with Ctrl-C's SIGINT to its group."""

    def __init__(self, command: str, env: Optional[Dict[str, str]] = None):
        self.command = command
        self._log = tempfile.NamedTemporaryFile(prefix='ros2cli-', suffix='.log', delete=False)
        self.process = subprocess.Popen(['bash', '-c', f'exec {command}'], stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        env=env)

    @property
    def output(self) -> str:
        return Path(self._log.name).read_text(errors='replace')

    def stop(self, group: bool = True) -> int:
        """
        SIGINT to the whole process group (a terminal's Ctrl-C), or to the command only.

        Returns the exit code. ``ros2 run`` relies on the group: it waits for its child to get
        the terminal's signal too.
        """
        if self.process.poll() is None:
            if group:
                os.killpg(self.process.pid, signal.SIGINT)
            else:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=rosutil.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


# README's managed-node lines, run as written by test_ros2_lifecycle.py (comments dropped).
README_LIFECYCLE = ('ros2 run facesense_ros facesense_node --ros-args -p autostart:=false',
                    'ros2 lifecycle set /facesense configure',
                    'ros2 lifecycle set /facesense activate',
                    'ros2 lifecycle get /facesense')
