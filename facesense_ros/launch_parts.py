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
What the launch files share: facesense_node's arguments and Node, and the Fast DDS profile.

launch/facesense.launch.py, file.launch.py and webcam.launch.py build their facesense_node from
``facesense_node``, declare its ``autostart`` and ``model_dir`` arguments with
``node_arguments``, and (the last two) run their nodes with config/fastdds_shm.xml through
``shm_argument`` and ``with_shm_profile``. Only launch files import this module.
"""

import os
from typing import Dict, List

from facesense_ros.fastdds_profile import profile_variable
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def config_file(name: str) -> PathJoinSubstitution:
    """Return the installed share/facesense_ros/config/``name``."""
    return PathJoinSubstitution([FindPackageShare('facesense_ros'), 'config', name])


def node_arguments() -> List[DeclareLaunchArgument]:
    """Return the ``autostart`` and ``model_dir`` arguments that facesense_node() reads."""
    return [
        DeclareLaunchArgument('autostart', default_value='true',
                              description='true: facesense_node configures and activates '
                                          'itself; false: it waits, unconfigured, for a '
                                          'lifecycle manager (ros2 lifecycle set ...).'),
        DeclareLaunchArgument('model_dir', default_value='',
                              description='Directory with intel/<model>/<precision>/ files; '
                                          'empty: $FACESENSE_MODEL_DIR, then the cache.'),
    ]


def facesense_node(namespace, params_file, extra_parameters=None, **node) -> Dict:
    """
    Return the keyword arguments of facesense_node's Node (name ``facesense``).

    Parameters: ``params_file``, then ``model_dir`` and ``autostart`` from the launch
    arguments, then ``extra_parameters``. ``reliability`` is left to the file: auto, which
    is reliable for usb_cam's and image_source's reliable publishers, so no frame is lost with
    or without the shm profile (bench/NOTES.md section 10). ``node``: more Node arguments
    (remappings).
    """
    parameters = {
        'model_dir': ParameterValue(LaunchConfiguration('model_dir'), value_type=str),
        'autostart': ParameterValue(LaunchConfiguration('autostart'), value_type=bool),
        **(extra_parameters or {})}
    return dict(package='facesense_ros', executable='facesense_node', name='facesense',
                namespace=namespace, output='screen', parameters=[params_file, parameters],
                **node)


def shm_argument(nodes: str) -> DeclareLaunchArgument:
    """Return the ``shm`` argument (default true) for the ``nodes`` named in its description."""
    return DeclareLaunchArgument('shm', default_value='true',
                                 description=f'Run {nodes} with config/fastdds_shm.xml (Fast DDS '
                                             'shared memory for whole frames); false: leave '
                                             'their environment as it is.')


def with_shm_profile(node: Dict) -> List[Node]:
    """
    Return the Node ``node`` (keyword arguments) with the shared-memory profile, and without.

    The ``shm`` argument picks one. The profile goes under the one variable this distro's
    Fast DDS reads (FASTRTPS_DEFAULT_PROFILES_FILE on Humble and Jazzy,
    FASTDDS_DEFAULT_PROFILES_FILE on Kilted; facesense_ros.fastdds_profile). With ``shm`` false
    it is not set at all, not set empty: a profile variable of the user's own stays in effect.
    """
    shm = LaunchConfiguration('shm')
    variable = profile_variable(os.environ.get('ROS_DISTRO'))
    return [Node(**node, condition=IfCondition(shm),
                 additional_env={variable: config_file('fastdds_shm.xml')}),
            Node(**node, condition=UnlessCondition(shm))]
