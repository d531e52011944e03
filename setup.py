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

from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'facesense_ros'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    # The OMZ download table (URLs, sizes, sha384) that model_store verifies against.
    package_data={package_name: ['omz_models.tsv']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        (os.path.join('share', package_name, 'launch'), glob('launch/*.launch.py')),
        # Node and usb_cam parameters, the rviz2 view, and the camera driver's Fast DDS profile.
        (os.path.join('share', package_name, 'config'),
         glob('config/*.yaml') + glob('config/*.rviz') + glob('config/*.xml')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='facesense_ros developers',
    maintainer_email='dev@facesense.invalid',
    description='Face detection, tracking, age, gender, emotion, head pose and landmarks on '
                'OpenVINO for ROS 2, with REP-155 (ROS4HRI) output.',
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'facesense_node = facesense_ros.node:main',
            'image_source = facesense_ros.image_source:main',
            'face_listener = facesense_ros.face_listener:main',
            'facesense_models = facesense_ros.model_store:main',
        ],
    },
)
