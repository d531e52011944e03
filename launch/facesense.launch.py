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
facesense_node alone, on an existing camera topic.

    ros2 launch facesense_ros facesense.launch.py image_topic:=/camera/image_raw
    ros2 launch facesense_ros facesense.launch.py namespace:=front image_topic:=/front/image_raw
    ros2 launch facesense_ros facesense.launch.py input_transport:=compressed

Outputs are relative to the namespace argument: <namespace>/faces/detections, faces/image, ...
"""

from facesense_ros.launch_parts import config_file, facesense_node, node_arguments
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    """Declare the arguments and the node."""
    image_topic = LaunchConfiguration('image_topic')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node and its outputs.'),
        DeclareLaunchArgument('image_topic', default_value='image_raw',
                              description='Input sensor_msgs/Image topic (remaps image_raw; '
                                          'with input_transport:=compressed, '
                                          '<image_topic>/compressed is read).'),
        DeclareLaunchArgument('input_transport', default_value='raw',
                              description='raw or compressed.'),
        DeclareLaunchArgument('reliability', default_value='auto',
                              description='Input QoS: auto (reliable when every publisher of '
                                          'the topic is, else best_effort), best_effort or '
                                          'reliable.'),
        *node_arguments(),
        DeclareLaunchArgument('params_file', default_value=config_file('facesense.yaml'),
                              description='facesense_node parameters.'),
        Node(**facesense_node(
            LaunchConfiguration('namespace'), LaunchConfiguration('params_file'),
            {'input_transport': LaunchConfiguration('input_transport'),
             'reliability': LaunchConfiguration('reliability')},
            remappings=[
                ('image_raw', image_topic),
                ('image_raw/compressed', [image_topic, '/compressed']),
            ])),
    ])
