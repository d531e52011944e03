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
The real ``ros2`` command line, typed as README types it, against nodes it started.

Every line runs as a subprocess of the environment's ``ros2`` executable (ros2cli, launch and
launch_ros that ``make env`` installs from ../shared/vendor/ros2), in the test's environment:
loopback-only discovery and a ROS_DOMAIN_ID of its own (conftest.py). The README lines are
read from README.md (``README_LINES``); where a line is typed differently here, the test says
why, and every ``ros2`` line of README is either run here or listed in ``NOT_RUN`` with the
reason. The ros2 daemon that ``ros2 node list`` and ``ros2 param`` start listens on 127.0.0.1
only (checked) and is stopped when the module ends.
"""

import os
from pathlib import Path
import re
import subprocess
import time

from command_line import (Background, COMMAND_TIMEOUT, on_node, README, readme,
                          README_LIFECYCLE, README_LINES, RETRY_PERIOD, ros2_executable, run,
                          run_until, STARTUP_TIMEOUT, write_photo)
from facesense_ros.gallery import Gallery
import numpy as np
import processes
import psutil
import pytest
import rosutil

# README's commands in this order; each test below runs one of them (looked up by its text, so
# that an edit of README that changes a line fails here until the test follows it).
README_ECHO = 'ros2 topic echo /camera/faces/detections'
README_LISTENER = 'ros2 run facesense_ros face_listener --ros-args -r __ns:=/camera'
README_NODE_LIST = 'ros2 node list'
README_PREFIX = ('PROFILE=$(ros2 pkg prefix facesense_ros)/share/facesense_ros/config/'
                 'fastdds_shm.xml')
DOWNLOAD_REASON = ('downloads from OMZ storage: no network here (test_model_store.py runs the '
                   'download against a local server)')
# README's lines that no test can run on these machines, and why.
NOT_RUN = {
    'facesense_models download': DOWNLOAD_REASON,
    'ros2 run facesense_ros facesense_models download': DOWNLOAD_REASON,
    'ros2 launch facesense_ros webcam.launch.py':
        'needs usb_cam, a camera and rviz2: file.launch.py, the same node on a photo, runs '
        'instead',
    'ros2 run usb_cam usb_cam_node_exe': 'usb_cam is not installable here',
    'ros2 topic echo /humans/faces/tracked': 'REP-155 topic: test_hri.py reads it with rclpy',
}
# Tools named in README's prose (`ros2 run`), not command lines; the tests below run them.
PROSE = {'ros2 run', 'ros2 launch', 'ros2 param', 'ros2 param set', 'ros2 topic echo',
         'ros2 lifecycle', 'ros2 service call', 'ros2 pkg prefix'}
# README's bare console-script lines that test_dev_shell_gives_readmes_bare_commands runs.
README_BARE = ('facesense_models list', 'facesense_models path face-detection-0102')
NAMESPACE = 'camera'
NODE = f'/{NAMESPACE}/facesense'
# image_source's rate here: enough to answer echo quickly, light on 2 shared cores.
FPS = '2.0'
# The daemon's XML-RPC port is this plus ROS_DOMAIN_ID (ros2cli/daemon/__init__.py).
DAEMON_BASE_PORT = 11511


@pytest.fixture(scope='module')
def photo():
    """Write a real photo, skimage's astronaut with one face, as the launch files' source."""
    return write_photo()


@pytest.fixture(scope='module')
def daemon():
    """
    Stop the ros2 daemon of this domain before the module and after it.

    Before: one left by the other distro's ros2 on the same ROS_DOMAIN_ID would answer for
    it. After: the commands start one.
    """
    ros2_executable()
    run('ros2 daemon stop')
    yield
    run('ros2 daemon stop')


@pytest.fixture(scope='module')
def launched(photo, model_dir, daemon):
    """
    Run README's launch file on a photo: ``ros2 launch facesense_ros file.launch.py source:=``.

    Typed with ``namespace:=camera`` so that README's lines for /camera run as written,
    ``shm:=false`` because the shipped shared-memory profile leaves UDP on every interface and
    these machines stay on loopback (dev/processes.py), and ``fps:=2.0`` to spare the shared
    cores. The models come from $FACESENSE_MODEL_DIR, as dev/setup.bash sets it.

    Stopped with SIGINT to ``ros2 launch`` alone, which passes it to each process once. (A
    terminal's Ctrl-C reaches every process of the group as well, so each gets it twice; then
    image_source can be interrupted inside ``destroy_node``, exit -2 with a KeyboardInterrupt
    traceback: seen here, left to the signal work of issue 21.)
    """
    assert 'file.launch.py' in README.read_text()
    launch = Background(f'ros2 launch facesense_ros file.launch.py source:={photo} '
                        f'namespace:={NAMESPACE} shm:=false fps:={FPS}')
    yield launch
    code = launch.stop(group=False)
    assert code == 0, launch.output
    assert 'Traceback' not in launch.output, launch.output


def test_ros2_is_the_environments_own():
    """The ros2 that runs is the venv's, from the vendored ros2cli (never a system one)."""
    path = Path(ros2_executable())
    assert path.parent == Path(os.environ['VIRTUAL_ENV']) / 'bin'
    done = run('ros2 --help')
    assert done.returncode == 0, done.stdout
    for verb in ('run', 'launch', 'topic', 'param', 'node', 'service', 'lifecycle', 'pkg'):
        assert re.search(rf'^\s+{verb}\s', done.stdout, flags=re.M), f'ros2 {verb} missing'


def test_pkg_prefix_and_the_profile_path_readme_builds_from_it():
    done = run('ros2 pkg prefix facesense_ros')
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == str(processes.INSTALL / 'facesense_ros')
    done = run(f'{readme(README_PREFIX)} && test -f "$PROFILE" && echo "$PROFILE"')
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().endswith('share/facesense_ros/config/fastdds_shm.xml')


def test_ros2_run_facesense_models_list(model_dir):
    """Run ``facesense_models list`` (README) through ``ros2 run`` as installed users type it."""
    readme(README_BARE[0])
    done = run('ros2 run facesense_ros facesense_models list')
    assert done.returncode == 0, done.stdout
    assert 'face-detection-0102' in done.stdout
    assert str(model_dir / 'intel' / 'face-detection-0102') in done.stdout


def test_ros2_run_facesense_node_and_image_source(photo, model_dir, daemon):
    """
    ``ros2 run facesense_ros facesense_node --ros-args -r __ns:=/camera`` (docs/performance.md).

    Fed by ``ros2 run facesense_ros image_source`` on the photo, in a namespace of its own (it
    runs before the launch below). Both stop with Ctrl-C and exit 0.
    """
    namespace = '/ros2run'
    node = Background(f'ros2 run facesense_ros facesense_node --ros-args -r __ns:={namespace}')
    source = Background(f'ros2 run facesense_ros image_source --ros-args -r __ns:={namespace} '
                        f'-p source:={photo} -p fps:={FPS}')
    try:
        done = run_until(f'ros2 topic echo --once {namespace}/faces/detections',
                         lambda d: d.returncode == 0 and 'bbox' in d.stdout)
        assert 'class_id: face' in done.stdout, done.stdout + node.output
        done = run(f'ros2 param get {namespace}/facesense model_dir')
        assert done.stdout.startswith('String value is:'), done.stdout
    finally:
        codes = (source.stop(), node.stop())
    assert codes == (0, 0), node.output + source.output
    assert 'Traceback' not in node.output + source.output


def test_launch_answers_on_topic_echo(launched):
    """Run README's echo line with ``--once`` (without it, echo prints until interrupted)."""
    done = run_until(f'{readme(README_ECHO)} --once',
                     lambda d: d.returncode == 0 and 'bbox' in d.stdout)
    assert done.returncode == 0, done.stdout + launched.output
    # The input header (image_source's frame_id in file.launch.py) and one hypothesis per
    # attribute of the astronaut's face, as README's example shows them.
    assert 'frame_id: file' in done.stdout
    for label in ('face', 'gender:female', 'age', 'emotion:happy', 'landmark:nose_tip'):
        assert re.search(rf'^ +class_id: {label}$', done.stdout, flags=re.M), done.stdout


def test_node_list_shows_both_launched_nodes(launched):
    launched_nodes = {NODE, f'/{NAMESPACE}/image_source'}
    done = run_until(readme(README_NODE_LIST),
                     lambda d: launched_nodes <= set(d.stdout.split()))
    assert done.returncode == 0, done.stdout
    assert launched_nodes <= set(done.stdout.split()), done.stdout


def test_daemon_listens_on_loopback_only(launched):
    """The daemon that ``ros2 node list`` starts: its XML-RPC port on 127.0.0.1 alone."""
    run_until('ros2 node list', lambda d: NODE in d.stdout.split())
    # Started by the line above unless it had to fall back to a direct query; started here then.
    run_until('ros2 daemon start', lambda d: 'running' in run('ros2 daemon status').stdout)
    port = DAEMON_BASE_PORT + int(os.environ['ROS_DOMAIN_ID'])

    def sockets():
        return [c for c in psutil.net_connections(kind='inet')
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port]

    deadline = time.monotonic() + COMMAND_TIMEOUT
    while not sockets() and time.monotonic() < deadline:
        time.sleep(RETRY_PERIOD)
    listening = sockets()
    assert listening, f'no ros2 daemon listening on port {port}'
    assert {c.laddr.ip for c in listening} == {'127.0.0.1'}
    # Its own DDS participant discovers as the environment that started it says: loopback.
    for pid in {c.pid for c in listening}:
        environ = psutil.Process(pid).environ()
        assert environ.get('ROS_AUTOMATIC_DISCOVERY_RANGE') == 'LOCALHOST'
        assert environ.get('ROS_DOMAIN_ID') == os.environ['ROS_DOMAIN_ID']


def test_param_get_set_and_a_refused_value(launched):
    get = f'ros2 param get {NODE} confidence_threshold'
    done = run_until(get, lambda d: d.returncode == 0)
    assert done.returncode == 0, done.stdout + launched.output
    assert done.stdout.strip() == 'Double value is: 0.5'
    done = run_until(f'ros2 param set {NODE} confidence_threshold 0.6',
                     lambda d: d.returncode == 0)
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == 'Set parameter successful'
    # Out of the descriptor's range 0.0..1.0: refused, the value kept.
    done = on_node(f'ros2 param set {NODE} confidence_threshold 1.5')
    assert done.stdout.startswith('Setting parameter failed'), done.stdout
    assert 'confidence_threshold' in done.stdout
    assert on_node(get).stdout.strip() == 'Double value is: 0.6'
    assert on_node(f'ros2 param set {NODE} confidence_threshold 0.5').returncode == 0


def test_service_call_enable(launched):
    """``ros2 service call .../enable std_srvs/srv/SetBool "{data: false}"``, then true."""
    run_until('ros2 node list', lambda d: NODE in d.stdout.split())
    for value in ('false', 'true'):
        done = run(f'ros2 service call {NODE}/enable std_srvs/srv/SetBool "{{data: {value}}}"')
        assert done.returncode == 0, done.stdout
        assert 'std_srvs.srv.SetBool_Response(success=True' in done.stdout, done.stdout
    # Enabled again: answers come back.
    done = run_until(f'{readme(README_ECHO)} --once',
                     lambda d: d.returncode == 0 and 'bbox' in d.stdout)
    assert 'class_id: face' in done.stdout, done.stdout


def test_face_listener_prints_the_astronaut(launched):
    """Run README's face_listener line as written, until it prints a face (Ctrl-C then)."""
    listener = Background(readme(README_LISTENER))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while 'gender=' not in listener.output and time.monotonic() < deadline:
            time.sleep(RETRY_PERIOD)
    finally:
        code = listener.stop()
    assert re.search(r'id=\d+ gender=(male|female)\(', listener.output), listener.output
    assert code == 0, listener.output


def test_dev_shell_gives_readmes_bare_commands(model_dir):
    """Run README's bare commands in a shell that sourced dev/setup.bash (issue 21, item 2)."""
    setup = rosutil.ROOT / 'dev' / 'setup.bash'
    env = {k: v for k, v in os.environ.items()
           if k not in ('VIRTUAL_ENV', 'FACESENSE_INSTALL_DIR', 'AMENT_PREFIX_PATH')}
    # A login shell's PATH: neither the venv nor the overlay on it before the source.
    env['PATH'] = '/usr/local/bin:/usr/bin:/bin'
    for executable in ('facesense_models', 'facesense_node', 'image_source', 'face_listener',
                       'ros2'):
        done = subprocess.run(['bash', '-c', f'source {setup} && command -v {executable}'],
                              env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert done.returncode == 0, f'{executable} not on PATH: {done.stderr}'
        if executable != 'ros2':
            assert Path(done.stdout.strip()) == processes.LIB / executable
    listed, path = (subprocess.run(['bash', '-c', f'source {setup} && {readme(line)}'],
                                   env=env, capture_output=True, text=True,
                                   timeout=COMMAND_TIMEOUT) for line in README_BARE)
    assert listed.returncode == 0, listed.stderr
    assert str(model_dir / 'intel' / 'face-detection-0102') in listed.stdout
    assert path.returncode == 0, path.stderr
    assert Path(path.stdout.strip()).name == 'face-detection-0102.xml'
    assert Path(path.stdout.strip()).is_file()


# README's identity lines (section "Identity"), in its order.
README_IDENTITY_NODE = 'ros2 run facesense_ros facesense_node --ros-args -p identity:=true'
README_FACES = (
    'ros2 run facesense_ros facesense_faces list',
    'ros2 run facesense_ros facesense_faces enroll "Ada Lovelace" ada1.jpg ada2.jpg',
    'ros2 run facesense_ros facesense_faces name 3 "Ada Lovelace"',
    'ros2 run facesense_ros facesense_faces merge 3 7',
    'ros2 run facesense_ros facesense_faces forget 5',
    'ros2 run facesense_ros facesense_faces export faces.json',
)
IDENTITIES = rosutil.ROOT.parent / 'shared' / 'data' / 'identities'
# Persons already in the gallery before README's lines run, so that its ids 3, 5 and 7 exist.
PRESET_PERSONS = 7


def test_readme_identity_lines(tmp_path):
    """
    Run README's identity lines as written, in a gallery of a home of their own.

    The node with ``identity:=true`` creates the gallery (0600) and says where; then the
    ``facesense_faces`` lines run in order, with ada1.jpg and ada2.jpg two real photos of one
    person and persons 1-7 already stored (random embeddings), so that the ids README names
    exist.
    """
    assert IDENTITIES.is_dir(), f'identity photos missing: {IDENTITIES}'
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / 'data'))
    database = tmp_path / 'data' / 'facesense_ros' / 'faces.db'
    node = Background(f'{readme(README_IDENTITY_NODE)} -r __ns:=/readme_identity', env=env)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while 'identity on: face gallery' not in node.output and \
                time.monotonic() < deadline:
            time.sleep(RETRY_PERIOD)
    finally:
        code = node.stop()
    assert f'identity on: face gallery {database}' in node.output, node.output
    assert code == 0, node.output
    assert database.stat().st_mode & 0o777 == 0o600
    rng = np.random.default_rng(5)
    with Gallery(str(database)) as gallery:
        for _ in range(PRESET_PERSONS):
            vector = rng.standard_normal(256).astype(np.float32)
            gallery.add_person([vector / np.linalg.norm(vector)])
    for name, photo in (('ada1.jpg', '1.jpg'), ('ada2.jpg', '2.jpg')):
        (tmp_path / name).write_bytes((IDENTITIES / 'obama' / photo).read_bytes())
    outputs = []
    for line in README_FACES:
        done = subprocess.run(['bash', '-c', readme(line)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=STARTUP_TIMEOUT)
        assert done.returncode == 0, (line, done.stdout)
        outputs.append(done.stdout)
    with Gallery(str(database)) as gallery:
        persons = {p.id: p for p in gallery.persons()}
    # Enrolled as person 8 from two photos; 3 named and merged with 7; 5 forgotten.
    assert persons[8].name == 'Ada Lovelace' and persons[8].embeddings == 2
    assert persons[3].name == 'Ada Lovelace' and persons[3].embeddings == 2
    assert set(persons) == {1, 2, 3, 4, 6, 8}
    assert (tmp_path / 'faces.json').is_file()


def test_every_readme_ros2_line_is_run_or_says_why():
    run_here = {README_ECHO, README_LISTENER, README_PREFIX, README_NODE_LIST, *README_BARE,
                *README_LIFECYCLE, README_IDENTITY_NODE, *README_FACES}
    for line in README_LINES:
        if not line.startswith(('ros2 ', 'PROFILE=$(ros2', 'facesense_models ')):
            continue
        covered = line in run_here or line in PROSE \
            or any(line.startswith(known) for known in NOT_RUN)
        assert covered, f'README line run by no test_ros2*.py and not in NOT_RUN: {line}'
