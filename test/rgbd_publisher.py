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
A separate process for depth tests: an RGB-D camera publishing one rendered scene at 10 fps.

Publishes ``image_raw`` (bgr8), ``depth/image_raw`` and ``camera_info`` in its namespace, the
colour frame first, then its depth frame stamped ``--offset`` seconds from it (0: aligned
RealSense depth). The scene is depth_scenes.render(--distances, --seed, ...), which the test
renders too for the truth. Exits on SIGINT, SIGTERM or after --seconds.
"""

import argparse

from facesense_ros import depth_scenes
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_echo import spin_for
from sensor_msgs.msg import CameraInfo, Image

# What RealSense and Orbbec drivers offer: reliable, a few deep.
QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
PERIOD = 0.1


def scene_args(parser):
    """Add the scene's arguments (shared with the test, which renders the same scene)."""
    parser.add_argument('--distances', type=float, nargs='+', default=[1.0, 2.5])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--encoding', default='16UC1')
    parser.add_argument('--scale', type=float, default=0.5)


class RgbdCamera(Node):
    """Publish the scene's colour, depth and intrinsics every PERIOD seconds."""

    def __init__(self, args):
        super().__init__('rgbd_camera')
        scene = depth_scenes.render(args.distances, seed=args.seed, depth_scale=args.scale,
                                    encoding=args.encoding, occluder=False)
        self.args = args
        self.colour = self.create_publisher(Image, 'image_raw', QOS)
        self.depth = self.create_publisher(Image, 'depth/image_raw', QOS)
        self.info = self.create_publisher(CameraInfo, 'camera_info', QOS)
        height, width = scene.colour.shape[:2]
        self.colour_msg = Image(height=height, width=width, encoding='bgr8', step=width * 3)
        self.colour_msg.data = scene.colour.tobytes()
        self.colour_msg.header.frame_id = args.frame_id
        dw, dh = scene.depth_size
        self.depth_msg = Image(height=dh, width=dw, encoding=args.depth_encoding or
                               scene.encoding, step=scene.step)
        self.depth_msg.data = scene.depth_data
        self.depth_msg.header.frame_id = args.depth_frame_id or args.frame_id
        self.info_msg = CameraInfo(width=width, height=height, distortion_model='plumb_bob')
        fx, fy, cx, cy = scene.intrinsics
        self.info_msg.k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
        self.info_msg.header.frame_id = args.frame_id
        self.create_timer(PERIOD, self._tick)

    def _tick(self):
        now = self.get_clock().now()
        self.colour_msg.header.stamp = now.to_msg()
        self.info_msg.header.stamp = now.to_msg()
        stamp = now.nanoseconds + int(self.args.offset * 1e9)
        self.depth_msg.header.stamp.sec, self.depth_msg.header.stamp.nanosec = divmod(
            stamp, 1_000_000_000)
        self.info.publish(self.info_msg)
        self.colour.publish(self.colour_msg)
        self.depth.publish(self.depth_msg)


def main():
    parser = argparse.ArgumentParser()
    scene_args(parser)
    parser.add_argument('--frame-id', default='camera_color_optical_frame')
    parser.add_argument('--depth-frame-id', default='')
    parser.add_argument('--depth-encoding', default='')
    parser.add_argument('--offset', type=float, default=0.0)
    parser.add_argument('--seconds', type=float, default=120.0)
    args, ros_args = parser.parse_known_args()
    rclpy.init(args=['rgbd_publisher', *ros_args])
    spin_for(RgbdCamera(args), args.seconds)


if __name__ == '__main__':
    main()
