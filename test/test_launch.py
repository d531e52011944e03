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
launch/ and config/: they compile, reference real files, agree, and give the Nodes they say.

The launch files are loaded and their actions evaluated with launch itself (installed by
``make env``) for the arguments a user passes, without starting anything; file.launch.py
itself runs in test_launch_testing.py (launch_testing) and test_ros2cli.py
(``ros2 launch``).
"""

import ast
import os
from pathlib import Path
import py_compile
import subprocess
import sys
from xml.etree import ElementTree

import cv2
from facesense_ros.config import PARAMETERS
from facesense_ros.fastdds_profile import profile_env, profile_variable
from facesense_ros.ros_parameters import NODE_PARAMETERS
import numpy as np
import processes
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
import rosutil
from sensor_msgs.msg import Image
import yaml

LAUNCH_DIR = rosutil.ROOT / 'launch'
LAUNCH_FILES = sorted(LAUNCH_DIR.glob('*.launch.py'))
NODE_KEY = '/**/facesense'
# Parameters every rclpy node declares by itself (the second one since Jazzy).
ROS_BUILTIN_PARAMETERS = {'use_sim_time', 'start_type_description_service'}
SHM_PROFILE = rosutil.CONFIG / 'fastdds_shm.xml'
INSTALLED_CONFIG = processes.INSTALL / 'facesense_ros' / 'share' / 'facesense_ros' / 'config'
FASTDDS = {'f': 'http://www.eprosima.com'}
# The segment must hold two 1920x1080 bgr8 frames, so that a full-HD frame can be written while
# a reader still holds the previous one (the reason given in the XML).
MIN_SEGMENT_SIZE = 2 * 1920 * 1080 * 3
# 640x480 bgr8 (921,600 bytes) does not fit Fast DDS's default 512 KB segment: the size at which
# best-effort readers lose frames with the default transport (docs/performance.md).
FRAME_SIZE = (640, 480)
# Frames and rate of the real-process check: 2 s of a 30 fps camera.
SHM_FRAMES, SHM_FPS = 60, 30.0
# With the default transport such a reader gets about half of them; whole frames through shared
# memory, all of them. 95 % leaves room for a frame lost while the reader matches the writer.
MIN_RECEIVED = 0.95
# A process that creates one participant (Fast DDS reads its XML profile then) and exits.
PROBE = ('import rclpy; rclpy.init(); node = rclpy.create_node("profile_probe"); '
         'node.destroy_node(); rclpy.shutdown()')


def _strings(path: Path):
    """Every string constant in a Python file."""
    tree = ast.parse(path.read_text())
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _node_parameters():
    return yaml.safe_load(rosutil.PARAMS_FILE.read_text())[NODE_KEY]['ros__parameters']


def test_the_three_launch_files_exist():
    assert {p.name for p in LAUNCH_FILES} == {
        'webcam.launch.py', 'facesense.launch.py', 'file.launch.py'}


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_compiles_and_references_existing_config(path, tmp_path):
    py_compile.compile(str(path), cfile=str(tmp_path / 'out.pyc'), doraise=True)
    strings = _strings(path)
    assert 'generate_launch_description' in path.read_text()
    referenced = {s for s in strings if s.endswith(('.yaml', '.rviz', '.xml'))}
    assert referenced, f'{path.name} uses no config file'
    for name in referenced:
        assert (rosutil.CONFIG / name).is_file(), f'{path.name}: config/{name} is missing'
    # Executables it starts are the console scripts setup.py declares (or other packages').
    setup = (rosutil.ROOT / 'setup.py').read_text()
    for executable in ('facesense_node', 'image_source'):
        if executable in strings:
            assert f"'{executable} = facesense_ros." in setup


def _evaluate(name, **arguments):
    """
    Return (declared argument names, [(executable, additional_env)]) of launch/``name``.

    The Nodes are those whose condition holds with the arguments' defaults overridden by
    ``arguments``; substitutions are performed as ``ros2 launch`` would, nothing is started.
    """
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument
    from launch.launch_description_sources import (
        get_launch_description_from_python_launch_file)
    from launch.utilities import perform_substitutions
    from launch_ros.actions import Node
    description = get_launch_description_from_python_launch_file(str(LAUNCH_DIR / name))
    context = LaunchContext()
    declared = [e for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    for argument in declared:
        if argument.default_value is not None:
            context.launch_configurations[argument.name] = perform_substitutions(
                context, argument.default_value)
    context.launch_configurations.update(arguments)
    nodes = []
    for entity in description.entities:
        if isinstance(entity, Node) and (entity.condition is None
                                         or entity.condition.evaluate(context)):
            env = {perform_substitutions(context, k): perform_substitutions(context, v)
                   for k, v in entity.process_description.additional_env or []}
            nodes.append((entity.node_executable, env))
    return {a.name for a in declared}, nodes


def test_webcam_launch_has_its_pieces():
    declared, nodes = _evaluate('webcam.launch.py')
    assert {'namespace', 'video_device', 'autostart', 'model_dir', 'rviz', 'shm'} <= declared
    assert [executable for executable, _ in nodes] == ['usb_cam_node_exe', 'facesense_node',
                                                       'rviz2']
    _, nodes = _evaluate('webcam.launch.py', rviz='false')
    assert 'rviz2' not in [executable for executable, _ in nodes]


@pytest.mark.parametrize('name, camera', [('webcam.launch.py', 'usb_cam_node_exe'),
                                          ('file.launch.py', 'image_source')])
def test_camera_and_node_get_the_shm_profile_under_an_argument(name, camera):
    # Both the camera (large frames in) and the node (annotated frames out to rviz2 on this
    # machine: without the profile they stall its worker, docs/performance.md) get it, under
    # the one variable this distro's Fast DDS reads (test_fastdds_profile_variable_per_distro).
    variable = profile_variable(os.environ.get('ROS_DISTRO'))
    profile = str(processes.INSTALL / 'facesense_ros' / 'share' / 'facesense_ros' / 'config'
                  / 'fastdds_shm.xml')
    arguments = {'source': 'x.png'} if name == 'file.launch.py' else {}
    declared, nodes = _evaluate(name, **arguments)
    assert 'shm' in declared and {'autostart', 'model_dir'} <= declared
    with_profile = {executable: env for executable, env in nodes}
    assert with_profile[camera] == with_profile['facesense_node'] == {variable: profile}
    assert all(not env for executable, env in nodes
               if executable not in (camera, 'facesense_node'))
    # With shm false the variable is not set at all (no empty value): the same Nodes, no env.
    _, nodes = _evaluate(name, shm='false', **arguments)
    assert sorted(executable for executable, _ in nodes) == sorted(with_profile)
    assert all(not env for _, env in nodes)


@pytest.mark.parametrize('distro, variable', [
    ('humble', 'FASTRTPS_DEFAULT_PROFILES_FILE'), ('jazzy', 'FASTRTPS_DEFAULT_PROFILES_FILE'),
    ('kilted', 'FASTDDS_DEFAULT_PROFILES_FILE'), (None, 'FASTDDS_DEFAULT_PROFILES_FILE')])
def test_fastdds_profile_variable_per_distro(distro, variable):
    assert profile_variable(distro) == variable
    assert profile_env(Path('/p.xml'), distro) == {variable: '/p.xml'}


def test_fastdds_of_this_distro_reads_the_profile_variable_chosen(tmp_path):
    """
    A profile that cannot be parsed, under the chosen name: this distro's Fast DDS reports it.

    Under the other name it goes unnoticed on Fast DDS 2.x (Jazzy), which is why the name
    matters; on Kilted the old name is read too but with a deprecation warning at every start.
    """
    broken = tmp_path / 'broken.xml'
    broken.write_text('<profiles')
    env = dict(os.environ, **processes.profile_env(broken))
    done = subprocess.run([sys.executable, '-c', PROBE], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert str(broken) in done.stdout + done.stderr
    assert 'deprecated' not in done.stdout + done.stderr


def test_facesense_launch_remaps_the_input():
    strings = _strings(LAUNCH_DIR / 'facesense.launch.py')
    assert {'image_topic', 'image_raw', 'image_raw/compressed', 'facesense.yaml'} <= strings
    declared, nodes = _evaluate('facesense.launch.py')
    assert {'namespace', 'image_topic', 'input_transport', 'reliability', 'autostart',
            'model_dir', 'params_file'} <= declared
    assert nodes == [('facesense_node', {})]


def test_params_file_declares_exactly_the_node_parameters():
    values = _node_parameters()
    assert set(values) == set(PARAMETERS) | set(NODE_PARAMETERS)
    for name, spec in PARAMETERS.items():
        default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
        # Same value and same type: a 1 where 1.0 is declared would fail at start-up.
        assert values[name] == default and type(values[name]) is type(default), name
    for name, spec in NODE_PARAMETERS.items():
        assert values[name] == spec.default and type(values[name]) is type(spec.default), name


def test_node_declares_exactly_those_parameters(tester_and_node):
    tester, node_name = tester_and_node
    declared = set(tester.list_parameters(node_name)) - ROS_BUILTIN_PARAMETERS
    assert declared == set(_node_parameters())
    # And the values it runs with are the file's.
    values = tester.get_parameters(node_name, sorted(declared))
    expected = _node_parameters()
    expected['model_dir'] = values['model_dir']
    assert values == expected


@pytest.fixture
def tester_and_node(model_dir):
    tester = rosutil.RosTester('launch_tester')
    process = rosutil.start_node('/params_check', model_dir)
    try:
        rosutil.wait_ready(tester, process, '/params_check/faces/detections')
        yield tester, '/params_check/facesense'
    finally:
        tester.close()
        assert process.stop() == 0


def test_usb_cam_and_rviz_config():
    usb_cam = yaml.safe_load((rosutil.CONFIG / 'usb_cam.yaml').read_text())
    params = usb_cam['/**/usb_cam']['ros__parameters']
    assert params['video_device'] == '/dev/video0'
    assert (params['image_width'], params['image_height']) == (640, 480)
    rviz = yaml.safe_load((rosutil.CONFIG / 'facesense.rviz').read_text())
    [image] = [d for d in rviz['Visualization Manager']['Displays']
               if d['Class'] == 'rviz_default_plugins/Image']
    assert image['Topic']['Value'] == 'faces/image'


def test_setup_installs_launch_and_config():
    setup = (rosutil.ROOT / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in setup
    assert "glob('config/*.yaml')" in setup and "glob('config/*.rviz')" in setup


def _profile(path):
    return ElementTree.parse(path).getroot()


def _transport(root, kind):
    [descriptor] = [d for d in root.iterfind('f:transport_descriptors/f:transport_descriptor',
                                             FASTDDS)
                    if d.findtext('f:type', namespaces=FASTDDS) == kind]
    return descriptor


def test_shipped_shm_profile_is_safe_on_a_robot():
    root = _profile(SHM_PROFILE)
    shm, udp = _transport(root, 'SHM'), _transport(root, 'UDPv4')
    assert int(shm.findtext('f:segment_size', namespaces=FASTDDS)) >= MIN_SEGMENT_SIZE
    # UDP on every interface, as Fast DDS's built-in one: remote rviz2 keeps working.
    for limit in ('interfaceWhiteList', 'interfaces', 'netmask_filter'):
        assert root.find(f'.//f:{limit}', FASTDDS) is None, limit
    [participant] = root.findall('f:participant', FASTDDS)
    assert participant.get('is_default_profile') == 'true'
    used = [t.text for t in participant.iterfind('f:rtps/f:userTransports/f:transport_id',
                                                 FASTDDS)]
    assert used == [shm.findtext('f:transport_id', namespaces=FASTDDS),
                    udp.findtext('f:transport_id', namespaces=FASTDDS)]
    assert participant.findtext('f:rtps/f:useBuiltinTransports', namespaces=FASTDDS) == 'false'


def test_shm_profile_is_installed():
    setup = (rosutil.ROOT / 'setup.py').read_text()
    assert "glob('config/*.xml')" in setup
    installed = INSTALLED_CONFIG / SHM_PROFILE.name
    assert installed.is_file(), 'colcon build has not installed it'
    assert installed.read_bytes() == SHM_PROFILE.read_bytes()


def test_loopback_variant_only_adds_the_whitelist(tmp_path):
    derived = _profile(processes.loopback_shm_profile(tmp_path / 'lo.xml'))
    whitelist = _transport(derived, 'UDPv4').find('f:interfaceWhiteList', FASTDDS)
    assert [a.text for a in whitelist] == ['127.0.0.1']
    _transport(derived, 'UDPv4').remove(whitelist)
    assert ElementTree.tostring(derived) == ElementTree.tostring(_profile(SHM_PROFILE))


def test_shm_profile_delivers_every_frame_to_a_best_effort_reader(tmp_path):
    """
    image_source with the shipped profile (UDP on loopback) -> a best-effort reader here.

    The same run without the profile receives about half of the frames (docs/performance.md):
    this is what the profile is for.
    """
    image = tmp_path / 'frame.png'
    cv2.imwrite(str(image), np.random.default_rng(0).integers(
        0, 256, (FRAME_SIZE[1], FRAME_SIZE[0], 3), np.uint8))
    profile = processes.loopback_shm_profile(tmp_path / 'fastdds_shm_loopback.xml')
    tester = rosutil.RosTester('shm_reader')
    # Depth 10: a frame the middleware delivered is never overwritten before it is counted.
    best_effort = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
    frames = tester.collect(Image, '/shm_check/image_raw', best_effort)
    source = rosutil.start(
        'image_source', namespace='/shm_check',
        params={'source': image, 'fps': SHM_FPS, 'max_frames': SHM_FRAMES,
                'wait_for_subscribers': 2},
        env=dict(os.environ, **processes.profile_env(profile)))
    try:
        # image_source sends once two readers match it; the second one is made only after the
        # counting reader has discovered the writer (Humble's Subscription has no
        # get_publisher_count), and image_source waits start_delay more, so that no frame goes
        # out before the counting reader can take it (the start-up race of bench/NOTES.md,
        # section 8).
        assert tester.spin_until(lambda: tester.node.count_publishers('/shm_check/image_raw') > 0,
                                 rosutil.DISCOVERY_TIMEOUT), source.output()
        tester.collect(Image, '/shm_check/image_raw', best_effort)
        tester.spin_until(lambda: not source.running(),
                          rosutil.DISCOVERY_TIMEOUT + SHM_FRAMES / SHM_FPS)
        tester.spin_until(lambda: len(frames) >= SHM_FRAMES, 2.0)
    finally:
        tester.close()
        code = source.stop()
    assert code == 0, source.output()
    assert all(len(f.data) == FRAME_SIZE[0] * FRAME_SIZE[1] * 3 for f in frames)
    assert len(frames) >= MIN_RECEIVED * SHM_FRAMES, f'{len(frames)} of {SHM_FRAMES} frames'
