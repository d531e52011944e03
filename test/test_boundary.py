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

"""The ROS-free core, checked: every core module imports with rclpy and messages blocked."""

import json
from pathlib import Path
import subprocess
import sys

PACKAGE = Path(__file__).resolve().parents[1] / 'facesense_ros'
# The modules below the boundary (docs/architecture.md): no rclpy, no message package.
CORE = ('__init__', 'attributes', 'config', 'depth', 'depth_scenes', 'drawing', 'encodings',
        'face', 'face_geometry', 'faces_cli', 'fastdds_profile', 'gallery', 'handoff',
        'identity', 'image_header', 'model_store', 'models', 'param_spec', 'perception',
        'pipeline', 'sample_frames', 'stats', 'stop_signals', 'tracking')
# The modules above it, which may import ROS.
ROS_SIDE = ('conversions', 'depth_conversions', 'depth_input', 'face_listener',
            'hri_conversions', 'hri_publishers', 'identity_ros', 'image_source', 'input_qos',
            'launch_parts', 'node', 'ros_parameters', 'scripts')
# Blocked by name (sys.modules[name] = None makes every import of it fail) and, for any other
# message or ROS client package, by the shape of its name.
BLOCKED = ('rclpy', 'rcl_interfaces', 'builtin_interfaces', 'std_msgs', 'sensor_msgs',
           'vision_msgs', 'geometry_msgs', 'diagnostic_msgs', 'std_srvs', 'hri_msgs',
           'tf2_msgs', 'cv_bridge', 'launch', 'launch_ros', 'rosidl_runtime_py')
BLOCKED_SUFFIXES = ('_msgs', '_srvs', '_interfaces')
# Runs in a fresh interpreter: blocks, imports each module, prints what crossed the line.
CHECK = r"""
import importlib, json, sys, traceback
blocked, suffixes, package, modules = json.loads(sys.argv[1])
for name in blocked:
    sys.modules[name] = None
class Block:
    def find_spec(self, name, path=None, target=None):
        top = name.split('.')[0]
        if top.endswith(tuple(suffixes)) or top.startswith(('rcl', 'rosidl')):
            raise ImportError(f'import of {top} halted: ROS is blocked')
        return None
sys.meta_path.insert(0, Block())
crossed = {}
for module in modules:
    try:
        importlib.import_module(module if module == package else f'{package}.{module}')
    except ImportError as e:
        # The last frame inside the package is the import that crossed the line.
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if f'/{package}/' in f.filename.replace('\\', '/')]
        where = (f'{frames[-1].filename}:{frames[-1].lineno}: {frames[-1].line}'
                 if frames else '?')
        crossed[module] = f'{where} ({e})'
print(json.dumps(crossed))
"""


def crossings(package_dir: Path, modules) -> dict:
    """Return {module: 'file:line: the import (why)'} for the modules that import ROS."""
    args = json.dumps([BLOCKED, BLOCKED_SUFFIXES, package_dir.name,
                       [package_dir.name if m == '__init__' else m for m in modules]])
    done = subprocess.run([sys.executable, '-c', CHECK, args], cwd=package_dir.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_module_is_on_one_side_of_the_boundary():
    modules = {p.stem for p in PACKAGE.glob('*.py')}
    assert modules == set(CORE) | set(ROS_SIDE), 'classify new modules in CORE or ROS_SIDE'
    assert not set(CORE) & set(ROS_SIDE)


def test_the_core_imports_without_ros():
    crossed = crossings(PACKAGE, CORE)
    assert not crossed, '\n'.join(f'{m} imports ROS: {why}' for m, why in crossed.items())


def test_the_check_names_the_module_and_the_import(tmp_path):
    core = tmp_path / 'fake_core'
    core.mkdir()
    (core / '__init__.py').write_text('')
    (core / 'clean.py').write_text('import json\n')
    (core / 'direct.py').write_text('import json\nfrom sensor_msgs.msg import Image\n')
    (core / 'indirect.py').write_text('from fake_core import direct\n')
    (core / 'other.py').write_text('import nav_msgs.msg\n')
    crossed = crossings(core, ('clean', 'direct', 'indirect', 'other'))
    assert set(crossed) == {'direct', 'indirect', 'other'}
    assert 'direct.py:2: from sensor_msgs.msg import Image' in crossed['direct']
    assert 'direct.py:2' in crossed['indirect']
    assert 'other.py:1: import nav_msgs.msg' in crossed['other']
