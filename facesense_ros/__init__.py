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
facesense_ros: face detection, tracking and per-face attributes on OpenVINO, for ROS 2.

Attributes: age, gender, emotion, head pose and landmarks (attributes.py declares them). The
modules below the node (``attributes``, ``config``, ``drawing``, ``encodings``, ``face``,
``face_geometry``, ``fastdds_profile``, ``image_header``, ``model_store``, ``models``,
``param_spec``, ``perception``, ``pipeline``, ``sample_frames``, ``tracking``) never import
rclpy or a message package, so the perception core can be used and tested without ROS;
test/test_boundary.py checks it. docs/architecture.md draws the layers.
"""
