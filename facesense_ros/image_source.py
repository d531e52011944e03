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
``image_source``: publish frames from a video file, an image folder, one image or a camera.

Publishes ``image_raw`` (sensor_msgs/Image in any encoding encodings.py supports) or
``image_raw/compressed`` (JPEG CompressedImage) at ``fps``, stamped with the current time.
Reads with OpenCV; no cv_bridge or image_transport needed. Prints nothing per frame. An image
file declaring more than ``max_input_pixels`` is refused: JPEG and PNG from their header,
before decoding; other formats (no header reader) once OpenCV decoded them. SIGINT and
SIGTERM stop it at any moment with exit code 0 (stop_signals.py says how).
"""

from pathlib import Path
import sys
import time
from typing import List, Optional

import cv2
from facesense_ros.encodings import (bgr_to_jpeg, check_size, DEFAULT_MAX_INPUT_PIXELS,
                                     from_bgr, ImageFormatError, jpeg_to_bgr,
                                     MAX_INPUT_PIXELS_RANGE, SUPPORTED_ENCODINGS)
from facesense_ros.image_header import JPEG_SOI, PNG_SIGNATURE
from facesense_ros.stop_signals import StopSignals
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.duration import Duration
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CompressedImage, Image

IMAGE_EXTENSIONS = ('.bmp', '.jpeg', '.jpg', '.png', '.ppm', '.pgm', '.tif', '.tiff', '.webp')
TRANSPORTS = ('raw', 'compressed')
RELIABILITIES = {'reliable': ReliabilityPolicy.RELIABLE,
                 'best_effort': ReliabilityPolicy.BEST_EFFORT}
# The format string image_transport's compressed publisher writes for bgr8 JPEG.
COMPRESSED_FORMAT = 'bgr8; jpeg compressed bgr8'
# A finite run waits this long for reliable subscribers to acknowledge the last frames.
ACK_TIMEOUT_SEC = 2.0
# With wait_for_subscribers, frames start this long after the subscribers matched: a fresh
# subscriber's reader matched this writer 70-100 ms after this writer matched it (2-3 frames
# lost at 30 fps, best-effort), so 5x that leaves room for a loaded machine.
DEFAULT_START_DELAY_SEC = 0.5
# While waiting for subscribers, say how many matched at most this often (seconds): often
# enough to see that discovery progresses, rare enough not to flood the console.
WAIT_REPORT_SEC = 3.0
# The executor turns at least this often (seconds) to look at the stop request: a signal is
# acted on within 0.1 s whatever fps is, for 10 wake-ups a second.
STOP_POLL_SEC = 0.1
# Python types a parameter may have (`-p fps:=20` arrives as an integer, `-p source:=0` too).
NUMBER = (int, float)


class SourceError(ValueError):
    """A parameter of image_source is not usable (bad path, value, or unreadable source)."""


class FrameReader:
    """
    Frames from a folder, one image, a video file or a camera, in order.

    ``read()`` returns the next BGR frame, or None when a non-looping source is exhausted.
    """

    def __init__(self, source: str, loop: bool, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS):
        self.loop = loop
        self.max_pixels = max_pixels
        self.capture = None
        self.files: List[Path] = []
        self.index = 0
        self.still: Optional[np.ndarray] = None
        path = Path(source).expanduser()
        if not source:
            raise SourceError('parameter source is empty: expected a video file, an image '
                              'folder, an image file or a camera index')
        if source.isdigit():
            self.capture = cv2.VideoCapture(int(source))
            if not self.capture.isOpened():
                raise SourceError(f'source: camera {source} could not be opened')
            self.kind = 'camera'
        elif path.is_dir():
            self.files = sorted(p for p in path.iterdir()
                                if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
            if not self.files:
                raise SourceError(f'source: folder {path} holds no image '
                                  f'({", ".join(IMAGE_EXTENSIONS)})')
            self.kind = 'folder'
        elif not path.exists():
            raise SourceError(f'source: {path} does not exist (expected a video file, an image '
                              'folder, an image file or a camera index)')
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            self.still = self._imread(path)
            self.kind = 'image'
        else:
            self.capture = cv2.VideoCapture(str(path))
            if not self.capture.isOpened():
                raise SourceError(f'source: {path} is not a video OpenCV can read')
            self.kind = 'video'
            self.path = path

    def _imread(self, path: Path) -> np.ndarray:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise SourceError(f'source: {path} could not be read: {e}') from e
        try:
            if data.startswith((JPEG_SOI, PNG_SIGNATURE)):
                # The declared size is checked before decoding.
                return jpeg_to_bgr(data, self.max_pixels)
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f'source: {path} is not an image OpenCV can read')
            check_size(path.suffix.lstrip('.').upper() or 'image', image.shape[1],
                       image.shape[0], self.max_pixels)
            return image
        except ImageFormatError as e:
            raise SourceError(f'source: {path}: {e}') from e

    def read(self) -> Optional[np.ndarray]:
        """Return the next frame, or None at the end of a non-looping source."""
        if self.kind == 'image':
            return self.still
        if self.kind == 'folder':
            if self.index >= len(self.files):
                if not self.loop:
                    return None
                self.index = 0
            image = self._imread(self.files[self.index])
            self.index += 1
            return image
        ok, frame = self.capture.read()
        if not ok and self.kind == 'video' and self.loop:
            # Seeking is unreliable for some containers: reopening always restarts.
            self.capture.release()
            self.capture = cv2.VideoCapture(str(self.path))
            ok, frame = self.capture.read()
        return frame if ok else None

    def close(self):
        """Release the camera or video file."""
        if self.capture is not None:
            self.capture.release()


class ImageSource(Node):
    """Publish frames of a FrameReader at a fixed rate."""

    def __init__(self):
        super().__init__('image_source')
        self.reader = None
        source = self._parameter('source', '', (str, int))
        fps = self._parameter('fps', 10.0, NUMBER)
        self.frame_id = self._parameter('frame_id', 'camera', str)
        loop = self._parameter('loop', True, bool)
        self.encoding = self._parameter('encoding', 'bgr8', str)
        self.transport = self._parameter('transport', 'raw', str)
        reliability = self._parameter('reliability', 'reliable', str)
        self.max_frames = self._parameter('max_frames', 0, int)
        self.jpeg_quality = self._parameter('jpeg_quality', 90, int)
        self.wait_for_subscribers = self._parameter('wait_for_subscribers', 0, int)
        self.start_delay = self._parameter('start_delay', DEFAULT_START_DELAY_SEC, NUMBER)
        max_pixels = self._parameter('max_input_pixels', DEFAULT_MAX_INPUT_PIXELS, int)
        if isinstance(source, int):
            if source < 0:
                raise SourceError(f'parameter source: camera index must be >= 0, got {source}')
            source = str(source)
        if not fps > 0:
            raise SourceError(f'parameter fps must be > 0, got {fps}')
        if self.encoding not in SUPPORTED_ENCODINGS:
            raise SourceError(f'parameter encoding must be one of {list(SUPPORTED_ENCODINGS)}, '
                              f'got {self.encoding!r}')
        if self.transport not in TRANSPORTS:
            raise SourceError(f'parameter transport must be one of {list(TRANSPORTS)}, got '
                              f'{self.transport!r}')
        if reliability not in RELIABILITIES:
            raise SourceError(f'parameter reliability must be one of {list(RELIABILITIES)}, '
                              f'got {reliability!r}')
        if self.max_frames < 0:
            raise SourceError(f'parameter max_frames must be >= 0, got {self.max_frames}')
        if not self.start_delay >= 0:
            raise SourceError(f'parameter start_delay must be a number >= 0 (seconds), got '
                              f'{self.start_delay!r}')
        low, high = MAX_INPUT_PIXELS_RANGE
        if not low <= max_pixels <= high:
            raise SourceError(f'parameter max_input_pixels must be in {low}..{high}, got '
                              f'{max_pixels}')
        self.reader = FrameReader(source, loop, max_pixels)
        qos = QoSProfile(depth=1, reliability=RELIABILITIES[reliability])
        if self.transport == 'raw':
            self.publisher = self.create_publisher(Image, 'image_raw', qos)
        else:
            self.publisher = self.create_publisher(CompressedImage, 'image_raw/compressed', qos)
        self.reliable = reliability == 'reliable'
        self.sent = 0
        self.done = False
        # time.monotonic() when the subscription count last reached wait_for_subscribers.
        self.matched_at: Optional[float] = None
        # time.monotonic() of the last "waiting for subscribers" line.
        self.reported_at: Optional[float] = None
        self.timer = self.create_timer(1.0 / fps, self._tick)

    def _parameter(self, name: str, default, types):
        """
        Declare ``name`` and return its value, refused in one line unless one of ``types``.

        Declared with dynamic typing, so that a value of another type gives our SourceError
        instead of rclpy's traceback (``-p source:=0`` is an integer, a camera index).
        """
        self.declare_parameter(name, default, ParameterDescriptor(dynamic_typing=True))
        value = self.get_parameter(name).value
        types = types if isinstance(types, tuple) else (types,)
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            kinds = ' or '.join(t.__name__ for t in types)
            raise SourceError(f'parameter {name} must be {kinds}, got {value!r}')
        return value

    def _message(self, frame: np.ndarray):
        if self.transport == 'compressed':
            msg = CompressedImage(format=COMPRESSED_FORMAT)
            msg.data = bgr_to_jpeg(frame, self.jpeg_quality)
            return msg
        raw = from_bgr(frame, self.encoding)
        msg = Image(height=frame.shape[0], width=frame.shape[1], encoding=self.encoding,
                    is_bigendian=0, step=raw.shape[1])
        msg.data = raw.tobytes()
        return msg

    def _tick(self):
        if self.done:
            return
        if not self._subscribers_ready():
            return
        frame = self.reader.read()
        if frame is None:
            self._finish('end of source')
            return
        try:
            msg = self._message(frame)
        except ImageFormatError as e:
            # e.g. an odd-width frame in a 4:2:2 encoding: nothing later can be sent either.
            self._finish(f'cannot send a {frame.shape[1]}x{frame.shape[0]} frame as '
                         f'{self.encoding}: {e}')
            return
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.frame_id
        self.publisher.publish(msg)
        self.sent += 1
        if self.max_frames and self.sent >= self.max_frames:
            self._finish(f'{self.sent} frames sent')

    def _subscribers_ready(self) -> bool:
        """
        Whether wait_for_subscribers are matched, and have been for start_delay seconds.

        The count says that this writer matched the readers; each reader matches this writer
        on its own, a little later, and a best-effort reader drops the frames that arrive
        before. DDS gives a writer no sign of that, so the first frame waits start_delay.
        """
        if not self.wait_for_subscribers:
            return True
        matched = self.publisher.get_subscription_count()
        if matched < self.wait_for_subscribers:
            self.matched_at = None
            now = time.monotonic()
            if self.reported_at is None or now - self.reported_at >= WAIT_REPORT_SEC:
                self.reported_at = now
                self.get_logger().info(
                    f'waiting for subscribers on {self.publisher.topic_name}: {matched} of '
                    f'{self.wait_for_subscribers} matched')
            return False
        if self.matched_at is None:
            self.matched_at = time.monotonic()
        return time.monotonic() - self.matched_at >= self.start_delay

    def _finish(self, why: str):
        self.done = True
        self.timer.cancel()
        if self.reliable:
            self.publisher.wait_for_all_acked(Duration(seconds=ACK_TIMEOUT_SEC))
        self.get_logger().info(f'done: {why}')
        rclpy.try_shutdown(context=self.context)

    def destroy_node(self):
        """Release the source, then the node."""
        if self.reader is not None:
            self.reader.close()
        super().destroy_node()


def main(args=None, stop: Optional[StopSignals] = None):
    """Run image_source until the source ends, max_frames were sent, or a signal."""
    # The console script (scripts.image_source) installs the handlers before the imports.
    stop = stop or StopSignals.install()
    if stop.requested:
        return
    # Our handlers, not rclpy's: a signal never shuts the context down under a callback.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    code = 0
    try:
        node = ImageSource()
        executor = SingleThreadedExecutor(context=node.context)
        executor.add_node(node)
        while not stop.requested and rclpy.ok(context=node.context):
            executor.spin_once(timeout_sec=STOP_POLL_SEC)
    except ExternalShutdownException:
        pass
    except (SourceError, ParameterException) as e:
        rclpy.logging.get_logger('image_source').error(str(e))
        code = 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if code:
        sys.exit(code)


if __name__ == '__main__':
    main()
