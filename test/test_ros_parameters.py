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

"""One parameter shape: every parameter a ParamSpec, declared in one call with descriptors."""

from facesense_ros.config import PARAMETERS
from facesense_ros.param_spec import ParamSpec
from facesense_ros.ros_parameters import (ALL_PARAMETERS, declare_parameters, descriptor,
                                          NODE_PARAMETERS)
import pytest
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter


def test_node_parameters_are_param_specs_with_todays_names_and_defaults():
    assert all(isinstance(s, ParamSpec) and s.group == 'node' for s in NODE_PARAMETERS.values())
    assert {n: (s.default, s.read_only) for n, s in NODE_PARAMETERS.items()} == {
        'input_transport': ('raw', True), 'reliability': ('auto', True),
        'qos_depth': (1, True), 'diagnostics_period': (1.0, False),
        'max_input_pixels': (7680 * 4320, False), 'hri': (True, True)}
    assert not set(NODE_PARAMETERS) & set(PARAMETERS)
    assert NODE_PARAMETERS['input_transport'].check('jpeg') == \
        "input_transport must be one of ['raw', 'compressed'], got 'jpeg'"


def test_descriptors_carry_range_choices_and_read_only():
    depth = descriptor(NODE_PARAMETERS['qos_depth'])
    assert depth.read_only and depth.integer_range[0].from_value == 1
    assert depth.integer_range[0].to_value == 100
    threshold = descriptor(PARAMETERS['confidence_threshold'])
    assert not threshold.read_only and threshold.floating_point_range[0].to_value == 1.0
    assert descriptor(PARAMETERS['emotions_precisions']).additional_constraints == \
        'any non-empty ordered subset of: FP16-INT8, FP16, FP32'
    assert descriptor(NODE_PARAMETERS['reliability']).additional_constraints.startswith('one of')
    assert not descriptor(PARAMETERS['tracking']).floating_point_range


@pytest.fixture
def node():
    rclpy.init()
    node = Node('ros_parameters_test')
    yield node
    node.destroy_node()
    rclpy.shutdown()


def test_one_call_declares_every_parameter_with_its_descriptor(node):
    values = declare_parameters(node)
    assert set(values) == set(ALL_PARAMETERS)
    # Lists come back as tuples, as ParamSpec.check wants them.
    assert values['emotions_precisions'] == PARAMETERS['emotions_precisions'].default
    refused = node.set_parameters([Parameter('qos_depth', value=2)])[0]
    assert not refused.successful
    out_of_range = node.set_parameters([Parameter('roi_scale', value=3.0)])[0]
    assert not out_of_range.successful and node.get_parameter('roi_scale').value == 1.2
