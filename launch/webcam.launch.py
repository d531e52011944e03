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
    ros2 launch facesense_ros webcam.launch.py shm:=false   # Fast DDS as each process has it

Every node runs in the namespace argument with relative topics (<namespace>/image_raw,
<namespace>/faces/detections, ...), so one launch per camera, each in its own namespace, works.

With shm:=true (the default) usb_cam and facesense_node run with config/fastdds_shm.xml
as their Fast DDS profile: a Fast DDS shared-memory segment that holds whole frames, so
camera frames reach the node, and annotated frames reach rviz2, without UDP fragments
(docs/performance.md). rviz2 and remote subscribers keep their own settings; other RMWs (Cyclone
DDS) ignore the variable.
"""

from facesense_ros.launch_parts import (config_file, facesense_node, node_arguments,
                                        shm_argument, with_shm_profile)
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    """Declare the arguments, the camera, the node and rviz2."""
    namespace = LaunchConfiguration('namespace')
    usb_cam = dict(package='usb_cam', executable='usb_cam_node_exe', name='usb_cam',
                   namespace=namespace, output='screen',
                   parameters=[config_file('usb_cam.yaml'),
                               {'video_device': LaunchConfiguration('video_device')}])
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='camera',
                              description='Namespace of the camera, the node and rviz2.'),
        DeclareLaunchArgument('video_device', default_value='/dev/video0',
                              description='V4L2 device of the webcam.'),
        *node_arguments(),
        DeclareLaunchArgument('rviz', default_value='true',
                              description='Start rviz2 showing faces/image.'),
        shm_argument('usb_cam and facesense_node'),
        *with_shm_profile(usb_cam),
        *with_shm_profile(facesense_node(namespace, config_file('facesense.yaml'))),
        Node(
            package='rviz2',
            executable='rviz2',
            name='rviz2',
            namespace=namespace,
            arguments=['-d', config_file('facesense.rviz')],
            condition=IfCondition(LaunchConfiguration('rviz')),
        ),
    ])
