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

Watch the results with `ros2 run facesense_ros face_listener --ros-args -r __ns:=/file` or
rviz2 on /file/faces/image.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    """Declare the arguments, image_source and the node."""
    namespace = LaunchConfiguration('namespace')
    return LaunchDescription([
        DeclareLaunchArgument('source', description='Video file, image folder, image file or '
                                                    'camera index.'),
        DeclareLaunchArgument('fps', default_value='10.0', description='Frames per second.'),
        DeclareLaunchArgument('loop', default_value='true',
                              description='Start again at the end of a video or folder.'),
        DeclareLaunchArgument('namespace', default_value='file',
                              description='Namespace of both nodes and their topics.'),
        DeclareLaunchArgument('model_dir', default_value='',
                              description='Directory with intel/<model>/<precision>/ files; '
                                          'empty: $FACESENSE_MODEL_DIR, then the cache.'),
        Node(
            package='facesense_ros',
            executable='image_source',
            name='image_source',
            namespace=namespace,
            output='screen',
            parameters=[{
                'source': ParameterValue(LaunchConfiguration('source'), value_type=str),
                'fps': ParameterValue(LaunchConfiguration('fps'), value_type=float),
                'loop': ParameterValue(LaunchConfiguration('loop'), value_type=bool),
                'frame_id': 'file',
            }],
        ),
        Node(
            package='facesense_ros',
            executable='facesense_node',
            name='facesense',
            namespace=namespace,
            output='screen',
            parameters=[
                PathJoinSubstitution([FindPackageShare('facesense_ros'), 'config',
                                      'facesense.yaml']),
                {
                    'model_dir': ParameterValue(LaunchConfiguration('model_dir'), value_type=str),
                    # image_source publishes reliably: no frame is lost, whatever its size.
                    'reliability': 'reliable',
                },
            ],
        ),
    ])
