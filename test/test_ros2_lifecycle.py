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
``ros2 lifecycle nodes/get/list/set`` through every state of facesense_node, as users type it.

The node is started as a bring-up starts a managed node, ``ros2 run facesense_ros
facesense_node --ros-args -p autostart:=false``, fed by ``ros2 run facesense_ros image_source``
on a real photo, then driven by the real ``ros2 lifecycle`` command line (ros2cli from
../shared/vendor/ros2, ``make env``); what it publishes is read with ``ros2 topic echo``.
test_lifecycle.py drives the same node through the services from rclpy, under load.
"""

import os

from command_line import (Background, on_node, readme, README_LIFECYCLE, run, run_until,
                          write_photo)
import pytest

# README's lines use the node's own name in the root namespace: run as written (this test's
# ROS_DOMAIN_ID keeps it apart from any other /facesense).
START, CONFIGURE, ACTIVATE, GET = README_LIFECYCLE
NODE = '/facesense'
# image_source's rate: enough to see answers, light on 2 shared cores.
FPS = '2.0'
DETECTIONS = 'ros2 topic echo --once /faces/detections'
# One echo that gets nothing while the node is not active: a few of image_source's frames.
QUIET_ECHO_SECONDS = 5
# The states ``ros2 lifecycle get`` prints (lifecycle_msgs/msg/State ids).
UNCONFIGURED, INACTIVE, ACTIVE, FINALIZED = (
    'unconfigured [1]', 'inactive [2]', 'active [3]', 'finalized [4]')


@pytest.fixture(scope='module')
def managed():
    """Start README's unconfigured node (``autostart:=false``) and image_source; stop both."""
    run('ros2 daemon stop')
    node = Background(readme(START))
    source = Background('ros2 run facesense_ros image_source --ros-args '
                        f'-p source:={write_photo()} -p fps:={FPS}')
    yield node
    codes = (source.stop(), node.stop())
    run('ros2 daemon stop')
    assert codes == (0, 0), node.output + source.output
    assert 'Traceback' not in node.output, node.output


def state() -> str:
    """Return what README's ``ros2 lifecycle get /facesense`` prints."""
    return on_node(readme(GET)).stdout.strip()


def transition(label: str):
    """Run ``ros2 lifecycle set /facesense <label>``; assert it succeeded."""
    done = on_node(f'ros2 lifecycle set {NODE} {label}')
    assert done.stdout.strip() == 'Transitioning successful', done.stdout


def quiet() -> bool:
    """Return whether no detection came within a few of image_source's frames."""
    # Ctrl-C's signal ends echo (SIGTERM, timeout's default, may not); KILL 10 s later if not.
    return 'bbox' not in run(f'timeout -s INT -k 10 {QUIET_ECHO_SECONDS} {DETECTIONS}').stdout


def test_every_transition_from_the_command_line(managed):
    first = run_until(readme(GET), lambda d: d.returncode == 0 and d.stdout.strip())
    assert first.stdout.strip() == UNCONFIGURED, first.stdout + managed.output
    nodes = run_until('ros2 lifecycle nodes', lambda d: NODE in d.stdout.split())
    assert NODE in nodes.stdout.split(), nodes.stdout
    listed = on_node(f'ros2 lifecycle list {NODE}')
    assert '- configure [1]' in listed.stdout, listed.stdout
    assert quiet()
    done = on_node(readme(CONFIGURE))
    assert done.stdout.strip() == 'Transitioning successful', done.stdout + managed.output
    assert state() == INACTIVE
    assert quiet()
    done = on_node(readme(ACTIVATE))
    assert done.stdout.strip() == 'Transitioning successful', done.stdout
    assert state() == ACTIVE
    done = run_until(DETECTIONS, lambda d: 'bbox' in d.stdout)
    assert 'class_id: face' in done.stdout, done.stdout
    transition('deactivate')
    assert state() == INACTIVE
    assert quiet()
    transition('cleanup')
    assert state() == UNCONFIGURED
    # Configured again after cleanup: the models load again and it answers.
    transition('configure')
    transition('activate')
    done = run_until(DETECTIONS, lambda d: 'bbox' in d.stdout)
    assert 'class_id: face' in done.stdout, done.stdout
    transition('shutdown')
    assert state() == FINALIZED


def test_a_refused_configuration_leaves_it_unconfigured_and_alive(model_dir, tmp_path):
    """
    No model anywhere: configure fails with one line naming it, then a good model_dir works.

    The environment has no $FACESENSE_MODEL_DIR, an empty cache and a download URL that
    refuses at once (no network here), so that only ``model_dir`` can give the models.
    """
    env = {k: v for k, v in os.environ.items() if k != 'FACESENSE_MODEL_DIR'}
    env.update(XDG_CACHE_HOME=str(tmp_path / 'cache'), FACESENSE_MODEL_URL='http://127.0.0.1:9/')
    (tmp_path / 'empty').mkdir()
    bad = '/lc_bad/facesense'
    node = Background('ros2 run facesense_ros facesense_node --ros-args -r __ns:=/lc_bad '
                      f'-p autostart:=false -p model_dir:={tmp_path / "empty"}', env=env)
    try:
        first = run_until(f'ros2 lifecycle get {bad}',
                          lambda d: d.returncode == 0 and d.stdout.strip())
        assert first.stdout.strip() == UNCONFIGURED, first.stdout + node.output
        done = on_node(f'ros2 lifecycle set {bad} configure')
        assert 'Transitioning failed' in done.stdout, done.stdout
        assert on_node(f'ros2 lifecycle get {bad}').stdout.strip() == UNCONFIGURED
        errors = [line for line in node.output.splitlines() if '[ERROR]' in line]
        assert len(errors) == 1 and 'face-detection' in errors[0], node.output
        assert 'Traceback' not in node.output
        done = on_node(f'ros2 param set {bad} model_dir {model_dir}')
        assert done.stdout.strip() == 'Set parameter successful', done.stdout
        done = on_node(f'ros2 lifecycle set {bad} configure')
        assert done.stdout.strip() == 'Transitioning successful', done.stdout + node.output
        assert on_node(f'ros2 lifecycle get {bad}').stdout.strip() == INACTIVE
    finally:
        code = node.stop()
        run('ros2 daemon stop')
    assert code == 0, node.output
