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
Faces in a video file, an image folder or one image: image_source -> facesense_node.

    ros2 launch facesense_ros file.launch.py source:=/path/to/video.mp4
    ros2 launch facesense_ros file.launch.py source:=/path/to/folder fps:=5.0 loop:=false
    ros2 launch facesense_ros file.launch.py source:=video.mp4 shm:=false

Watch the results with `ros2 run facesense_ros face_listener --ros-args -r __ns:=/file` or
rviz2 on /file/faces/image.

With shm:=true (the default) image_source and facesense_node run with
config/fastdds_shm.xml as their Fast DDS profile: a Fast DDS shared-memory segment
that holds whole frames, so frames reach the node, and annotated frames reach rviz2 on this
machine, without UDP fragments (docs/performance.md). Other RMWs (Cyclone DDS) ignore the
variable.
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
    """Declare the arguments, image_source and the node."""
    config = PathJoinSubstitution([FindPackageShare('facesense_ros'), 'config'])
    namespace = LaunchConfiguration('namespace')
    shm = LaunchConfiguration('shm')
    profile = PathJoinSubstitution([config, 'fastdds_shm.xml'])
    image_source = dict(
        package='facesense_ros', executable='image_source', name='image_source',
        namespace=namespace, output='screen',
        parameters=[{
            'source': ParameterValue(LaunchConfiguration('source'), value_type=str),
            'fps': ParameterValue(LaunchConfiguration('fps'), value_type=float),
            'loop': ParameterValue(LaunchConfiguration('loop'), value_type=bool),
            'frame_id': 'file',
        }])
    facesense = dict(
        package='facesense_ros', executable='facesense_node', name='facesense',
        namespace=namespace, output='screen',
        parameters=[
            PathJoinSubstitution([config, 'facesense.yaml']),
            # reliability stays auto (the default): image_source publishes reliably, so the input
            # is reliable and loses no frame, with or without the shm profile (measured,
            # bench/NOTES.md section 10: with shm, reliable input is as fast as best-effort).
            {'model_dir': ParameterValue(LaunchConfiguration('model_dir'), value_type=str),
             'autostart': ParameterValue(LaunchConfiguration('autostart'), value_type=bool)},
        ])
    return LaunchDescription([
        DeclareLaunchArgument('source', description='Video file, image folder, image file or '
                                                    'camera index.'),
        DeclareLaunchArgument('fps', default_value='10.0', description='Frames per second.'),
        DeclareLaunchArgument('loop', default_value='true',
                              description='Start again at the end of a video or folder.'),
        DeclareLaunchArgument('namespace', default_value='file',
                              description='Namespace of both nodes and their topics.'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='true: facesense_node configures and activates '
                                          'itself; false: it waits, unconfigured, for a '
                                          'lifecycle manager (ros2 lifecycle set ...).'),
        DeclareLaunchArgument('model_dir', default_value='',
                              description='Directory with intel/<model>/<precision>/ files; '
                                          'empty: $FACESENSE_MODEL_DIR, then the cache.'),
        DeclareLaunchArgument('shm', default_value='true',
                              description='Run image_source and facesense_node with '
                                          'config/fastdds_shm.xml (Fast DDS shared memory for '
                                          'whole frames); false: leave their environment as it '
                                          'is.'),
        *with_shm_profile(shm, profile, image_source),
        *with_shm_profile(shm, profile, facesense),
    ])
