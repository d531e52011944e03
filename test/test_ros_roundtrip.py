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
Real rclpy round trips of the messages the package uses, in one process and across two.

These prove the development environment (Kilted wheels + our vision_msgs) is a working ROS 2:
messages cross a real DDS between real processes and vision_msgs has upstream's type hash, so
nodes built here talk to real Jazzy/Kilted installs.
"""

import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

# Upstream vision_msgs 4.x Detection2DArray (Jazzy, Kilted): ours must be identical on the wire.
UPSTREAM_DETECTION2DARRAY_HASH = (
    'RIHS01_214274120007f4a683866481336b70310268cfa107aebe9d594a6acf75bda968')
QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# Discovery between two processes takes 1.5 to 4 s here; allow for a loaded machine.
DISCOVERY_TIMEOUT = 30.0


@pytest.fixture
def node():
    context = rclpy.Context()
    rclpy.init(context=context)
    test_node = Node('roundtrip_test', context=context)
    test_node.executor_for_test = SingleThreadedExecutor(context=context)
    test_node.executor_for_test.add_node(test_node)
    yield test_node
    test_node.executor_for_test.shutdown()
    test_node.destroy_node()
    rclpy.shutdown(context=context)


def _image(width=64, height=48):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    msg = Image(height=height, width=width, encoding='bgr8', is_bigendian=0, step=width * 3)
    msg.data = pixels.tobytes()
    msg.header.frame_id = 'camera'
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1234, 5678
    return msg, pixels


def _detections():
    msg = Detection2DArray()
    msg.header.frame_id = 'camera'
    msg.header.stamp.sec = 99
    for i in range(3):
        det = Detection2D(id=str(i))
        det.bbox.center.position.x = 10.0 * i
        det.bbox.size_x, det.bbox.size_y = 20.0, 30.0
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id, hyp.hypothesis.score = 'face', 0.5 + i / 10
        det.results.append(hyp)
        msg.detections.append(det)
    return msg


def _spin_until(node, predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        node.executor_for_test.spin_once(timeout_sec=0.05)
    return predicate()


def _assert_same_image(got, sent, pixels):
    assert (got.width, got.height, got.encoding, got.step) == (
        sent.width, sent.height, sent.encoding, sent.step)
    assert got.header == sent.header
    assert np.array_equal(np.frombuffer(got.data, np.uint8).reshape(pixels.shape), pixels)


def test_in_process_round_trip(node):
    received = {}
    node.create_subscription(Image, 'rt/image', lambda m: received.setdefault('image', m), QOS)
    node.create_subscription(Detection2DArray, 'rt/detections',
                             lambda m: received.setdefault('detections', m), QOS)
    image_pub = node.create_publisher(Image, 'rt/image', QOS)
    det_pub = node.create_publisher(Detection2DArray, 'rt/detections', QOS)
    image, pixels = _image()
    detections = _detections()
    assert _spin_until(node, lambda: image_pub.get_subscription_count() > 0, 5.0)
    image_pub.publish(image)
    det_pub.publish(detections)
    assert _spin_until(node, lambda: len(received) == 2, 10.0), received.keys()
    _assert_same_image(received['image'], image, pixels)
    assert received['detections'] == detections


def test_cross_process_round_trip(node):
    echo = subprocess.Popen([sys.executable, str(Path(__file__).with_name('ros_echo.py')),
                             '--seconds', '60'], env=dict(os.environ))
    try:
        received = {}
        node.create_subscription(Image, 'out/image',
                                 lambda m: received.setdefault('image', m), QOS)
        node.create_subscription(Detection2DArray, 'out/detections',
                                 lambda m: received.setdefault('detections', m), QOS)
        image_pub = node.create_publisher(Image, 'in/image', QOS)
        det_pub = node.create_publisher(Detection2DArray, 'in/detections', QOS)
        # Wait for the whole path (ours -> echo -> ours) to be discovered, not a fixed time.
        assert _spin_until(node, lambda: (
            image_pub.get_subscription_count() > 0 and det_pub.get_subscription_count() > 0
            and node.count_publishers('/out/image') > 0
            and node.count_publishers('/out/detections') > 0), DISCOVERY_TIMEOUT)
        image, pixels = _image(640, 480)
        detections = _detections()
        image_pub.publish(image)
        det_pub.publish(detections)
        assert _spin_until(node, lambda: len(received) == 2, 20.0), received.keys()
        _assert_same_image(received['image'], image, pixels)
        assert received['detections'] == detections
        # The echo process really is another process using our type: check its endpoint hash.
        # The endpoint is discovered before its node's name (which arrives on rmw's own
        # discovery topic): until then the name reads _NODE_NAME_UNKNOWN_, so wait for it.
        assert _spin_until(node, lambda: [
            i.node_name for i in node.get_publishers_info_by_topic('/out/detections')]
            == ['ros_echo'], DISCOVERY_TIMEOUT), \
            [i.node_name for i in node.get_publishers_info_by_topic('/out/detections')]
        infos = node.get_publishers_info_by_topic('/out/detections')
        assert str(infos[0].topic_type_hash) == UPSTREAM_DETECTION2DARRAY_HASH
    finally:
        echo.send_signal(signal.SIGINT)
        assert echo.wait(timeout=10) == 0


def test_vision_msgs_type_hash_equals_upstream(node):
    pub = node.create_publisher(Detection2DArray, 'hash_check', QOS)
    infos = node.get_publishers_info_by_topic('/hash_check')
    assert [str(i.topic_type_hash) for i in infos] == [UPSTREAM_DETECTION2DARRAY_HASH]
    node.destroy_publisher(pub)
