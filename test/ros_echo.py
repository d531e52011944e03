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
A separate process for round-trip tests: republishes what it receives.

Subscribes ``in/image`` (sensor_msgs/Image) and ``in/detections`` (vision_msgs/Detection2DArray)
and publishes each message unchanged on ``out/image`` and ``out/detections``. Exits on SIGINT,
SIGTERM or after --seconds.
"""

import argparse

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

# Reliable and deep enough that a test's handful of messages are never dropped.
QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


class Echo(Node):
    """Republish in/* on out/*."""

    def __init__(self):
        super().__init__('ros_echo')
        for name, msg_type in (('image', Image), ('detections', Detection2DArray)):
            pub = self.create_publisher(msg_type, 'out/' + name, QOS)
            self.create_subscription(msg_type, 'in/' + name, pub.publish, QOS)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=float, default=60.0)
    args = parser.parse_args()
    rclpy.init()
    spin_for(Echo(), args.seconds)


def spin_for(node, seconds: float):
    """Spin ``node`` until SIGINT, SIGTERM or ``seconds``; then destroy it and shut down."""
    node.create_timer(seconds, lambda: rclpy.try_shutdown())
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
