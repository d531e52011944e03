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

from facesense_ros.launch_parts import (config_file, facesense_node, node_arguments,
                                        shm_argument, with_shm_profile)
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    """Declare the arguments, image_source and the node."""
    namespace = LaunchConfiguration('namespace')
    image_source = dict(
        package='facesense_ros', executable='image_source', name='image_source',
        namespace=namespace, output='screen',
        parameters=[{
            'source': ParameterValue(LaunchConfiguration('source'), value_type=str),
            'fps': ParameterValue(LaunchConfiguration('fps'), value_type=float),
            'loop': ParameterValue(LaunchConfiguration('loop'), value_type=bool),
            'frame_id': 'file',
        }])
    return LaunchDescription([
        DeclareLaunchArgument('source', description='Video file, image folder, image file or '
                                                    'camera index.'),
        DeclareLaunchArgument('fps', default_value='10.0', description='Frames per second.'),
        DeclareLaunchArgument('loop', default_value='true',
                              description='Start again at the end of a video or folder.'),
        DeclareLaunchArgument('namespace', default_value='file',
                              description='Namespace of both nodes and their topics.'),
        *node_arguments(),
        shm_argument('image_source and facesense_node'),
        *with_shm_profile(image_source),
        *with_shm_profile(facesense_node(namespace, config_file('facesense.yaml'))),
    ])
