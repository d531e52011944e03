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
A webcam end to end: usb_cam -> facesense_node -> rviz2 showing faces/image.

    ros2 launch facesense_ros webcam.launch.py
    ros2 launch facesense_ros webcam.launch.py video_device:=/dev/video2 namespace:=desk
    ros2 launch facesense_ros webcam.launch.py model_dir:=/opt/models rviz:=false

Every node runs in the namespace argument with relative topics (<namespace>/image_raw,
<namespace>/faces/detections, ...), so one launch per camera, each in its own namespace, works.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    """Declare the arguments, the camera, the node and rviz2."""
    config = PathJoinSubstitution([FindPackageShare('facesense_ros'), 'config'])
    namespace = LaunchConfiguration('namespace')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='camera',
                              description='Namespace of the camera, the node and rviz2.'),
        DeclareLaunchArgument('video_device', default_value='/dev/video0',
                              description='V4L2 device of the webcam.'),
        DeclareLaunchArgument('model_dir', default_value='',
                              description='Directory with intel/<model>/<precision>/ files; '
                                          'empty: $FACESENSE_MODEL_DIR, then the cache.'),
        DeclareLaunchArgument('rviz', default_value='true',
                              description='Start rviz2 showing faces/image.'),
        Node(
            package='usb_cam',
            executable='usb_cam_node_exe',
            name='usb_cam',
            namespace=namespace,
            output='screen',
            parameters=[
                PathJoinSubstitution([config, 'usb_cam.yaml']),
                {'video_device': LaunchConfiguration('video_device')},
            ],
        ),
        Node(
            package='facesense_ros',
            executable='facesense_node',
            name='facesense',
            namespace=namespace,
            output='screen',
            parameters=[
                PathJoinSubstitution([config, 'facesense.yaml']),
                {
                    'model_dir': ParameterValue(LaunchConfiguration('model_dir'), value_type=str),
                    # usb_cam publishes reliably; a reliable subscription also gets the frames
                    # that are too big for best-effort delivery (640x480 YUYV is 614 KB).
                    'reliability': 'reliable',
                },
            ],
        ),
        Node(
            package='rviz2',
            executable='rviz2',
            name='rviz2',
            namespace=namespace,
            arguments=['-d', PathJoinSubstitution([config, 'facesense.rviz'])],
            condition=IfCondition(LaunchConfiguration('rviz')),
        ),
    ])
