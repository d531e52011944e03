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
launch/file.launch.py run by launch_testing: image_source -> facesense_node -> detections.

Runs on a ROS install with the package built and sourced (``colcon test``) and in both
development environments, where ``make env`` installs launch, launch_testing and launch_ros
from ../shared/vendor/ros2: it fails, never skips, without them. Kept apart from
test_launch.py because launch_testing's pytest plugin collects a module with a launch test as
a launch test only.
"""

import os
import tempfile
import time
import unittest

import cv2
from facesense_ros.conversions import detections_to_records
from facesense_ros.sample_frames import astronaut
import launch
import launch_testing
import launch_testing.actions
import launch_testing.asserts
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from vision_msgs.msg import Detection2DArray


NAMESPACE = 'launch_test'
# Model compilation plus discovery on a busy machine.
ANSWER_TIMEOUT = 120.0


@pytest.mark.launch_test
def generate_test_description():
    """Launch file.launch.py on the astronaut photo, in its own namespace."""
    from launch.actions import IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    from launch_ros.substitutions import FindPackageShare
    from launch.substitutions import PathJoinSubstitution
    folder = tempfile.mkdtemp(prefix='facesense_launch_test_')
    image = os.path.join(folder, 'astronaut.png')
    cv2.imwrite(image, astronaut())
    included = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('facesense_ros'), 'launch', 'file.launch.py'])),
        # shm false: the shipped profile leaves UDP on every interface, and every process
        # here stays on loopback (dev/processes.py; test_launch.py checks the shm branch).
        launch_arguments={'source': image, 'fps': '2.0', 'namespace': NAMESPACE, 'shm': 'false',
                          'model_dir': os.environ.get('FACESENSE_MODEL_DIR', '')}.items())
    return launch.LaunchDescription([included, launch_testing.actions.ReadyToTest()])


class TestDetections(unittest.TestCase):
    """While the launch runs: the node answers image_source's frames."""

    def test_detections_arrive_with_the_input_header(self):
        rclpy.init()
        node = rclpy.create_node('launch_test_listener')
        received = []
        node.create_subscription(Detection2DArray, f'/{NAMESPACE}/faces/detections',
                                 received.append,
                                 QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        try:
            deadline = time.monotonic() + ANSWER_TIMEOUT
            while not any(m.detections for m in received) and time.monotonic() < deadline:
                rclpy.spin_once(node, timeout_sec=0.1)
            answered = [m for m in received if m.detections]
            self.assertTrue(answered, 'no Detection2DArray with a face')
            self.assertEqual(answered[0].header.frame_id, 'file')
            self.assertEqual(len(detections_to_records(answered[0])), 1)
        finally:
            node.destroy_node()
            rclpy.shutdown()


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    """After the launch: every process exited cleanly."""

    def test_exit_codes(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
