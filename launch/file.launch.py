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
FASTDDS_DEFAULT_PROFILES_FILE set to config/fastdds_shm.xml: a Fast DDS shared-memory segment
that holds whole frames, so frames reach the node, and annotated frames reach rviz2 on this
machine, without UDP fragments (docs/performance.md). Other RMWs (Cyclone DDS) ignore the
variable.
"""

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

    With ``shm`` false the variable is not set at all, not set empty: a
    FASTDDS_DEFAULT_PROFILES_FILE of the user's own stays in effect.
    """
    return [Node(**node, condition=IfCondition(shm),
                 additional_env={'FASTDDS_DEFAULT_PROFILES_FILE': profile}),
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
            {
                'model_dir': ParameterValue(LaunchConfiguration('model_dir'), value_type=str),
                # image_source publishes reliably. Measured (bench/NOTES.md, section 10), 4
                # faces at 30 fps: with shm, reliable input is as fast as best-effort (0 %
                # lost; four runs, p50 12.5-14.5 vs 12.5-15.9 ms); without the profile in
                # effect it still gets every frame (p50 ~25 ms) where best-effort loses ~40-50 %.
                'reliability': 'reliable',
            },
        ])
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
        DeclareLaunchArgument('shm', default_value='true',
                              description='Run image_source and facesense_node with '
                                          'config/fastdds_shm.xml (Fast DDS shared memory for '
                                          'whole frames); false: leave their environment as it '
                                          'is.'),
        *with_shm_profile(shm, profile, image_source),
        *with_shm_profile(shm, profile, facesense),
    ])
