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
``face_listener``: an example consumer of ``faces/detections``.

Logs one line per face, decoded with conversions.detections_to_records::

    id=3 gender=female(0.93) age=34 emotion=happy(0.81)
"""

from facesense_ros.conversions import detections_to_records
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from vision_msgs.msg import Detection2DArray

# Matches the node's reliable detections publisher; a few messages of slack.
QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# Another publisher's malformed messages tend to repeat: say so at most this often.
WARN_THROTTLE_SEC = 5.0


class FaceListener(Node):
    """Subscribe faces/detections and log every face."""

    def __init__(self):
        super().__init__('face_listener')
        self.create_subscription(Detection2DArray, 'faces/detections', self._on_detections, QOS)

    def _on_detections(self, msg: Detection2DArray):
        try:
            records = detections_to_records(msg)
        except ValueError as e:
            # Not our convention (an empty box, a score out of [0, 1]): skip it, go on.
            self.get_logger().warning(f'skipped a message: {e}',
                                      throttle_duration_sec=WARN_THROTTLE_SEC)
            return
        for record in records:
            self.get_logger().info(record.describe())


def main(args=None):
    """Spin the listener until Ctrl-C or SIGTERM."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.ALL)
    node = FaceListener()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
