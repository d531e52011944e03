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
Raw image bytes (as a sensor_msgs/Image carries them) to BGR numpy arrays, without ROS.

Every conversion gives the same pixels as cv_bridge's ``imgmsg_to_cv2(msg, 'bgr8')``: the
same OpenCV colour conversions, and 16-bit values scaled by 255/65535 with rounding like
cv_bridge's ``convertTo``. Rows are sliced out of ``step``-padded buffers with numpy views;
``bgr8`` without padding is returned as a read-only view of the input (no copy).

Input is untrusted (any process on the graph may publish it): no image larger than
``max_pixels`` (default DEFAULT_MAX_INPUT_PIXELS) is converted, and a compressed image's size is
read from its header (image_header.py) before anything is decoded or allocated.
"""

from typing import Union

import cv2
from facesense_ros.image_header import declared_size, HeaderError
import numpy as np

# encoding -> (bytes per pixel, OpenCV conversion to BGR or None for none). ROS's `yuv422`
# is UYVY byte order (sensor_msgs/image_encodings.hpp); `yuv422_yuy2` and `yuyv` are YUYV.
_FORMATS = {
    'bgr8': (3, None),
    'rgb8': (3, cv2.COLOR_RGB2BGR),
    'mono8': (1, cv2.COLOR_GRAY2BGR),
    'bgra8': (4, cv2.COLOR_BGRA2BGR),
    'rgba8': (4, cv2.COLOR_RGBA2BGR),
    'yuv422_yuy2': (2, cv2.COLOR_YUV2BGR_YUY2),
    'yuyv': (2, cv2.COLOR_YUV2BGR_YUY2),
    'uyvy': (2, cv2.COLOR_YUV2BGR_UYVY),
    'yuv422': (2, cv2.COLOR_YUV2BGR_UYVY),
    'mono16': (2, cv2.COLOR_GRAY2BGR),
}
SUPPORTED_ENCODINGS = tuple(_FORMATS)
_YUV_ENCODINGS = ('yuv422_yuy2', 'yuyv', 'uyvy', 'yuv422')
# cv_bridge scales 16 to 8 bit by 255/65535 = 1/257 with rounding; (v + 128) // 257 is
# exactly that in integers (257 is odd, so v/257 never ends in .5).
_MONO16_DIVISOR = 257
_MONO16_ROUNDING = 128
# Quality of the JPEG that image_transport's compressed publisher uses by default.
DEFAULT_JPEG_QUALITY = 80
# An 8K UHD frame (7680x4320), the largest camera frame the node is tested with: 99 MB as bgr8,
# peak RSS +480 MB through the node. The node's max_input_pixels parameter defaults to it.
DEFAULT_MAX_INPUT_PIXELS = 7680 * 4320
# The range of max_input_pixels. OpenCV refuses to decode more than 2^30 pixels anyway
# (OPENCV_IO_MAX_IMAGE_PIXELS's default), and a 2^30-pixel bgr8 frame is 3 GB.
MAX_INPUT_PIXELS_RANGE = (1, 2 ** 30)


class ImageFormatError(ValueError):
    """The bytes of an image cannot be read as the encoding and geometry that describe them."""


class OversizedImageError(ImageFormatError):
    """The image declares more pixels than allowed; it was refused before any conversion."""


def check_size(kind: str, width: int, height: int, max_pixels: int):
    """Raise OversizedImageError when width x height is over ``max_pixels``."""
    if width * height > max_pixels:
        raise OversizedImageError(
            f'{kind} declares {width}x{height} = {width * height:,} pixels, over '
            f'max_input_pixels {max_pixels:,}: not converted')


def bytes_per_pixel(encoding: str) -> int:
    """Return how many bytes one pixel of ``encoding`` takes; ImageFormatError if unsupported."""
    try:
        return _FORMATS[encoding][0]
    except KeyError:
        raise ImageFormatError(
            f'unsupported encoding {encoding!r}, expected one of {list(SUPPORTED_ENCODINGS)}'
        ) from None


def to_bgr(data: Union[bytes, bytearray, memoryview, np.ndarray], encoding: str, width: int,
           height: int, step: int, is_bigendian: bool = False,
           max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> np.ndarray:
    """
    Return the image as a height x width x 3 uint8 BGR array.

    ``data`` is the message's bytes (any buffer), ``step`` the length of one row in bytes
    including padding. ``is_bigendian`` matters for mono16 only. The result may be a read-only
    view of ``data`` (bgr8 without padding); copy it before writing into it.
    Raises ImageFormatError naming what is wrong (OversizedImageError over ``max_pixels``).
    """
    channels = bytes_per_pixel(encoding)
    if width <= 0 or height <= 0:
        raise ImageFormatError(f'image size must be positive, got {width}x{height}')
    check_size(encoding, width, height, max_pixels)
    if encoding in _YUV_ENCODINGS and width % 2:
        raise ImageFormatError(f'{encoding} needs an even width (2 pixels share U and V), '
                               f'got {width}')
    row_bytes = width * channels
    if step < row_bytes:
        raise ImageFormatError(f'step {step} is shorter than width * bytes per pixel = '
                               f'{width} * {channels} = {row_bytes} for {encoding}')
    buffer = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) \
        else data.reshape(-1).view(np.uint8)
    if buffer.size < step * height:
        raise ImageFormatError(f'{encoding} {width}x{height} with step {step} needs '
                               f'{step * height} bytes, got {buffer.size}')
    rows = buffer[:step * height].reshape(height, step)[:, :row_bytes]
    if encoding == 'mono16':
        # Viewing bytes as uint16 needs 2-byte aligned rows; a copy of odd-step rows is cheap.
        pairs = np.ascontiguousarray(rows) if step % 2 else rows
        values = pairs.view('>u2' if is_bigendian else '<u2').astype(np.uint32)
        gray = ((values + _MONO16_ROUNDING) // _MONO16_DIVISOR).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    pixels = rows.reshape(height, width, channels)
    code = _FORMATS[encoding][1]
    if code is None:
        return pixels
    return cv2.cvtColor(pixels, code)


def jpeg_to_bgr(data: Union[bytes, bytearray, memoryview, np.ndarray],
                max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> np.ndarray:
    """
    Decode a compressed image (JPEG or PNG) to BGR, if its header declares at most max_pixels.

    Nothing else is decoded: the declared size is read first (image_header.declared_size), and
    bytes whose header cannot be read, or that declare too much, raise ImageFormatError
    (OversizedImageError) without reaching the decoder.
    """
    buffer = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) \
        else data.reshape(-1).view(np.uint8)
    try:
        declared = declared_size(buffer.data)
    except HeaderError as e:
        raise ImageFormatError(f'compressed image could not be decoded: {e}') from e
    check_size(declared.format.upper(), declared.width, declared.height, max_pixels)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    except cv2.error as e:
        raise ImageFormatError(f'compressed image could not be decoded: {e}') from e
    if image is None:
        raise ImageFormatError(f'compressed image of {buffer.size} bytes could not be decoded '
                               f'(corrupt {declared.format.upper()})')
    # The decoder read the header the way image_header did (EXIF orientation may swap the
    # sides); anything else would mean that the size checked was not the size decoded.
    if sorted(image.shape[:2]) != sorted((declared.width, declared.height)):
        raise ImageFormatError(f'{declared.format.upper()} declared {declared.width}x'
                               f'{declared.height} but decoded as {image.shape[1]}x'
                               f'{image.shape[0]}')
    return image


def bgr_to_jpeg(image: np.ndarray, quality: int = DEFAULT_JPEG_QUALITY) -> bytes:
    """Encode a BGR (or grey) image as JPEG bytes."""
    ok, encoded = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ImageFormatError(f'could not encode a {image.shape} {image.dtype} image as JPEG')
    return encoded.tobytes()


def from_bgr(image: np.ndarray, encoding: str) -> np.ndarray:
    """
    Return ``image`` (BGR uint8) converted to ``encoding`` as height x (width * bytes) uint8.

    The inverse of ``to_bgr`` for publishers and tests (image_source's ``encoding`` parameter).
    YUV encodings use video-range BT.601 (what OpenCV decodes) with U and V averaged over pixel
    pairs; mono16 scales 0..255 to 0..65535 (x 257) like cv_bridge.
    """
    bytes_per_pixel(encoding)
    height, width = image.shape[:2]
    if encoding == 'bgr8':
        out = image
    elif encoding == 'rgb8':
        out = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif encoding == 'bgra8':
        out = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    elif encoding == 'rgba8':
        out = cv2.cvtColor(image, cv2.COLOR_BGR2RGBA)
    elif encoding == 'mono8':
        out = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif encoding == 'mono16':
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.uint16) * _MONO16_DIVISOR
        out = gray.astype('<u2').view(np.uint8)
    else:
        if width % 2:
            raise ImageFormatError(f'{encoding} needs an even width, got {width}')
        # Video-range BT.601, the inverse of what OpenCV (and so cv_bridge) decodes 4:2:2 with;
        # OpenCV's own BGR2YUV_YUY2 is missing from the OpenCV 4.5 of Ubuntu 22.04 (Humble).
        b, g, r = (image[:, :, i].astype(np.float32) for i in range(3))
        y = 16.0 + 0.257 * r + 0.504 * g + 0.098 * b
        u = 128.0 - 0.148 * r - 0.291 * g + 0.439 * b
        v = 128.0 + 0.439 * r - 0.368 * g - 0.071 * b
        u = (u[:, 0::2] + u[:, 1::2]) / 2.0
        v = (v[:, 0::2] + v[:, 1::2]) / 2.0
        packed = np.empty((height, width // 2, 4), np.float32)
        if encoding in ('yuv422_yuy2', 'yuyv'):
            packed[:, :, 0], packed[:, :, 1] = y[:, 0::2], u
            packed[:, :, 2], packed[:, :, 3] = y[:, 1::2], v
        else:
            packed[:, :, 0], packed[:, :, 1] = u, y[:, 0::2]
            packed[:, :, 2], packed[:, :, 3] = v, y[:, 1::2]
        out = np.clip(np.rint(packed), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out).reshape(height, -1)
