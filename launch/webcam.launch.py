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

import os

from facesense_ros.fastdds_profile import profile_variable
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def with_shm_profile(shm, profile, node):
    """
    Return the Node ``node`` (keyword arguments) with the shared-memory profile, and without.

    The profile goes under the one variable this distro's Fast DDS reads
    (FASTRTPS_DEFAULT_PROFILES_FILE on Humble and Jazzy, FASTDDS_DEFAULT_PROFILES_FILE on
    Kilted; facesense_ros.fastdds_profile). With ``shm`` false it is not set at all, not set
    empty: a profile variable of the user's own stays in effect.
    """
    return [Node(**node, condition=IfCondition(shm),
                 additional_env={profile_variable(os.environ.get('ROS_DISTRO')): profile}),
            Node(**node, condition=UnlessCondition(shm))]


def generate_launch_description():
    """Declare the arguments, the camera, the node and rviz2."""
    config = PathJoinSubstitution([FindPackageShare('facesense_ros'), 'config'])
    namespace = LaunchConfiguration('namespace')
    shm = LaunchConfiguration('shm')
    profile = PathJoinSubstitution([config, 'fastdds_shm.xml'])
    usb_cam = dict(package='usb_cam', executable='usb_cam_node_exe', name='usb_cam',
                   namespace=namespace, output='screen',
                   parameters=[PathJoinSubstitution([config, 'usb_cam.yaml']),
                               {'video_device': LaunchConfiguration('video_device')}])
    facesense = dict(
        package='facesense_ros', executable='facesense_node', name='facesense',
        namespace=namespace, output='screen',
        parameters=[
            PathJoinSubstitution([config, 'facesense.yaml']),
            # reliability stays auto (the default): usb_cam publishes reliably, so the input
            # is reliable and loses no frame, with or without the shm profile (measured,
            # bench/NOTES.md section 10: with shm, reliable input is as fast as best-effort).
            {'model_dir': ParameterValue(LaunchConfiguration('model_dir'), value_type=str),
             'autostart': ParameterValue(LaunchConfiguration('autostart'), value_type=bool)},
        ])
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='camera',
                              description='Namespace of the camera, the node and rviz2.'),
        DeclareLaunchArgument('video_device', default_value='/dev/video0',
                              description='V4L2 device of the webcam.'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='true: facesense_node configures and activates '
                                          'itself; false: it waits, unconfigured, for a '
                                          'lifecycle manager (ros2 lifecycle set ...).'),
        DeclareLaunchArgument('model_dir', default_value='',
                              description='Directory with intel/<model>/<precision>/ files; '
                                          'empty: $FACESENSE_MODEL_DIR, then the cache.'),
        DeclareLaunchArgument('rviz', default_value='true',
                              description='Start rviz2 showing faces/image.'),
        DeclareLaunchArgument('shm', default_value='true',
                              description='Run usb_cam and facesense_node with '
                                          'config/fastdds_shm.xml (Fast DDS shared memory for '
                                          'whole frames); false: leave their environment as it '
                                          'is.'),
        *with_shm_profile(shm, profile, usb_cam),
        *with_shm_profile(shm, profile, facesense),
        Node(
            package='rviz2',
            executable='rviz2',
            name='rviz2',
            namespace=namespace,
            arguments=['-d', PathJoinSubstitution([config, 'facesense.rviz'])],
            condition=IfCondition(LaunchConfiguration('rviz')),
        ),
    ])
