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
launch/ and config/ without launch installed: they compile, reference real files, and agree.

The launch files themselves run in test_launch_testing.py where launch_testing imports.
"""

import ast
from pathlib import Path
import py_compile

from facesense_ros.config import PARAMETERS
from facesense_ros.node import NODE_PARAMETERS
import pytest
import rosutil
import yaml

LAUNCH_DIR = rosutil.ROOT / 'launch'
LAUNCH_FILES = sorted(LAUNCH_DIR.glob('*.launch.py'))
NODE_KEY = '/**/facesense'
# Parameters every rclpy node declares by itself (the second one since Jazzy).
ROS_BUILTIN_PARAMETERS = {'use_sim_time', 'start_type_description_service'}


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
    referenced = {s for s in strings if s.endswith(('.yaml', '.rviz'))}
    assert referenced, f'{path.name} uses no config file'
    for name in referenced:
        assert (rosutil.CONFIG / name).is_file(), f'{path.name}: config/{name} is missing'
    # Executables it starts are the console scripts setup.py declares (or other packages').
    setup = (rosutil.ROOT / 'setup.py').read_text()
    for executable in ('facesense_node', 'image_source'):
        if executable in strings:
            assert f"'{executable} = facesense_ros." in setup


def test_webcam_launch_has_its_pieces():
    strings = _strings(LAUNCH_DIR / 'webcam.launch.py')
    assert {'usb_cam', 'usb_cam_node_exe', 'usb_cam.yaml', 'rviz2', 'facesense.rviz',
            'video_device', '/dev/video0', 'model_dir', 'rviz', 'namespace'} <= strings


def test_facesense_launch_remaps_the_input():
    strings = _strings(LAUNCH_DIR / 'facesense.launch.py')
    assert {'image_topic', 'image_raw', 'image_raw/compressed', 'facesense.yaml'} <= strings


def test_params_file_declares_exactly_the_node_parameters():
    values = _node_parameters()
    assert set(values) == set(PARAMETERS) | set(NODE_PARAMETERS)
    for name, spec in PARAMETERS.items():
        default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
        # Same value and same type: a 1 where 1.0 is declared would fail at start-up.
        assert values[name] == default and type(values[name]) is type(default), name
    for name, (default, *_) in NODE_PARAMETERS.items():
        assert values[name] == default and type(values[name]) is type(default), name


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
