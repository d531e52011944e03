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
The node's parameters on the ROS side: every ParamSpec declared with its rclpy descriptor.

The core's parameters (config.PARAMETERS) and the node's own (NODE_PARAMETERS, below) are all
ParamSpecs; :func:`declare_parameters` declares them in one call, each with a
ParameterDescriptor carrying its description, range, choices and read-only flag, and
:func:`python_value` turns what rclpy returns into what ParamSpec.check expects.
"""

from typing import Dict

from facesense_ros.config import PARAMETERS
from facesense_ros.encodings import DEFAULT_MAX_INPUT_PIXELS, MAX_INPUT_PIXELS_RANGE
from facesense_ros.input_qos import CHOICES as RELIABILITIES
from facesense_ros.input_qos import PUBLISHER_CHECK_PERIOD
from facesense_ros.param_spec import ParamSpec
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

TRANSPORTS = ('raw', 'compressed')
_NODE_SPECS = (
    ParamSpec('input_transport', 'raw', 'raw: subscribe image_raw (sensor_msgs/Image); '
              'compressed: image_raw/compressed (sensor_msgs/CompressedImage).',
              choices=TRANSPORTS, group='node', read_only=True),
    ParamSpec('reliability', 'auto', 'QoS reliability of the input subscription; auto: '
              'reliable when every publisher offers reliable, else best_effort, re-checked '
              f'every {PUBLISHER_CHECK_PERIOD:g} s.', choices=tuple(RELIABILITIES),
              group='node', read_only=True),
    ParamSpec('qos_depth', 1, 'Input queue depth; 1 keeps only the newest frame.', 1, 100,
              group='node', read_only=True),
    ParamSpec('diagnostics_period', 1.0, 'Seconds between /diagnostics messages.', 0.1, 60.0,
              group='node'),
    ParamSpec('max_input_pixels', DEFAULT_MAX_INPUT_PIXELS, 'Input frames declaring more '
              'pixels (width x height; for JPEG/PNG read from the header, before decoding) are '
              'skipped and counted as oversized.', *MAX_INPUT_PIXELS_RANGE, group='node'),
    ParamSpec('hri', True, 'Publish REP-155 (ROS4HRI) faces under /humans/faces, and '
              'face_<id> frames on /tf once camera_info arrives, when hri_msgs and tf2_msgs '
              'import.', group='node', read_only=True),
)
# The node's own parameters (the perception ones are config.PARAMETERS).
NODE_PARAMETERS: Dict[str, ParamSpec] = {spec.name: spec for spec in _NODE_SPECS}
# Every parameter the node declares, by name.
ALL_PARAMETERS: Dict[str, ParamSpec] = {**PARAMETERS, **NODE_PARAMETERS}


def descriptor(spec: ParamSpec) -> ParameterDescriptor:
    """Return the ParameterDescriptor of ``spec``: description, range, choices, read-only."""
    result = ParameterDescriptor(name=spec.name, description=spec.description,
                                 read_only=spec.read_only)
    default = spec.default
    if spec.choices:
        many = isinstance(default, (tuple, list))
        result.additional_constraints = (
            f'{"any non-empty ordered subset" if many else "one"} of: {", ".join(spec.choices)}')
    if spec.minimum is not None and spec.maximum is not None and not isinstance(default, bool):
        if isinstance(default, float):
            result.floating_point_range = [FloatingPointRange(
                from_value=float(spec.minimum), to_value=float(spec.maximum), step=0.0)]
        elif isinstance(default, int):
            result.integer_range = [IntegerRange(
                from_value=int(spec.minimum), to_value=int(spec.maximum), step=0)]
    return result


def ros_value(value):
    """Python default -> a value rclpy declares with the right type (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def python_value(value):
    """Parameter value from rclpy -> what ParamSpec.check expects (lists as tuples)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def declare_parameters(node) -> Dict[str, object]:
    """Declare every parameter of ALL_PARAMETERS on ``node``; return their values by name."""
    node.declare_parameters('', [(spec.name, ros_value(spec.default), descriptor(spec))
                                 for spec in ALL_PARAMETERS.values()])
    return {name: python_value(node.get_parameter(name).value) for name in ALL_PARAMETERS}
