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
Every encoding usb_cam publishes, decoded to BGR from hand-built bytes with row padding.

The bytes are packed here from first principles (channel order, YUV formulas, endianness), not
with the module under test, so a wrong byte order or a mishandled step fails.
"""

import array
import re

import cv2
from facesense_ros.encodings import (bgr_to_jpeg, from_bgr, ImageFormatError, jpeg_to_bgr,
                                     SUPPORTED_ENCODINGS, to_bgr)
import numpy as np
import pytest
import skimage.data

# BGR colours that are inside the video-range YUV gamut, each two pixels wide so 4:2:2 chroma
# subsampling keeps them exact up to rounding.
COLOURS = np.array([
    (0, 0, 0), (255, 255, 255), (0, 0, 255), (0, 255, 0), (255, 0, 0), (128, 128, 128),
    (80, 120, 200), (0, 255, 255)], np.uint8)
# Padding bytes at the end of each row: odd on purpose, filled with a value no pixel has.
PAD = 5
PAD_BYTE = 0xAB
# The YUV formulas use 3-decimal coefficients, and U/V are stored as bytes: 2 levels of error.
YUV_TOLERANCE = 2


def _known_image(rows=3):
    """Return rows x 16 BGR: each colour of COLOURS repeated over two adjacent pixels."""
    return np.repeat(COLOURS[None, :, :], 2, axis=1).repeat(rows, axis=0)


def _padded(raw_rows):
    """Append PAD garbage bytes to every row (height x row_bytes uint8); return bytes, step."""
    height, row_bytes = raw_rows.shape
    padded = np.full((height, row_bytes + PAD), PAD_BYTE, np.uint8)
    padded[:, :row_bytes] = raw_rows
    return padded.tobytes(), row_bytes + PAD


def _yuv422(image, order):
    """Pack BGR as video-range BT.601 4:2:2 in byte ``order`` ('YUYV' or 'UYVY')."""
    b, g, r = (image[:, :, i].astype(np.float64) for i in range(3))
    planes = {
        'Y': 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255,
        'U': 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255,
        'V': 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255,
    }
    planes = {k: np.clip(np.rint(v), 0, 255).astype(np.uint8) for k, v in planes.items()}
    y0, y1 = planes['Y'][:, 0::2], planes['Y'][:, 1::2]
    # Both pixels of a pair have the same colour here: U and V of the first one are the pair's.
    u, v = planes['U'][:, 0::2], planes['V'][:, 0::2]
    groups = {'YUYV': (y0, u, y1, v), 'UYVY': (u, y0, v, y1)}[order]
    return np.stack(groups, axis=2).reshape(image.shape[0], -1)


def _rows(image):
    return np.ascontiguousarray(image).reshape(image.shape[0], -1)


def test_lossless_colour_encodings_with_padding():
    image = _known_image()
    alpha = np.full(image.shape[:2] + (1,), 77, np.uint8)
    packed = {
        'bgr8': image,
        'rgb8': image[:, :, ::-1],
        'bgra8': np.concatenate([image, alpha], axis=2),
        'rgba8': np.concatenate([image[:, :, ::-1], alpha], axis=2),
    }
    for encoding, pixels in packed.items():
        data, step = _padded(_rows(pixels))
        out = to_bgr(data, encoding, 16, 3, step)
        assert out.shape == (3, 16, 3) and out.dtype == np.uint8, encoding
        assert np.array_equal(out, image), encoding


def test_mono8_replicates_grey():
    grey = np.array([[0, 1, 127, 128, 254, 255]] * 2, np.uint8)
    data, step = _padded(grey)
    out = to_bgr(data, 'mono8', 6, 2, step)
    assert np.array_equal(out, np.repeat(grey[:, :, None], 3, axis=2))


# 16-bit value -> 8-bit value as cv_bridge computes it (convertTo with scale 255/65535).
MONO16_CASES = ((0, 0), (128, 0), (129, 1), (257, 1), (32767, 127), (32768, 128),
                (65406, 254), (65407, 255), (65535, 255))


@pytest.mark.parametrize('bigendian', [False, True])
def test_mono16_scaled_like_cv_bridge(bigendian):
    values = np.array([[v for v, _ in MONO16_CASES]] * 2, np.uint16)
    raw = values.astype('>u2' if bigendian else '<u2').view(np.uint8)
    data, step = _padded(raw)
    out = to_bgr(data, 'mono16', len(MONO16_CASES), 2, step, is_bigendian=bigendian)
    expected = np.array([e for _, e in MONO16_CASES], np.uint8)
    assert np.array_equal(out[0, :, 0], expected)
    for channel in (1, 2):
        assert np.array_equal(out[:, :, 0], out[:, :, channel])


@pytest.mark.parametrize('encoding,order', [
    ('yuv422_yuy2', 'YUYV'), ('yuyv', 'YUYV'), ('uyvy', 'UYVY'), ('yuv422', 'UYVY')])
def test_yuv422_byte_orders(encoding, order):
    image = _known_image()
    data, step = _padded(_yuv422(image, order))
    out = to_bgr(data, encoding, 16, 3, step)
    error = np.abs(out.astype(int) - image.astype(int))
    assert error.max() <= YUV_TOLERANCE, (encoding, out[0, ::2])


def test_yuv422_known_levels():
    # Video range: Y 16 is black, 235 white; neutral chroma 128 gives grey with R = G = B.
    yuyv = np.array([[16, 128, 16, 128, 235, 128, 235, 128]], np.uint8)
    out = to_bgr(yuyv.tobytes(), 'yuyv', 4, 1, 8)
    assert np.array_equal(out[0], [[0, 0, 0]] * 2 + [[255, 255, 255]] * 2)
    # The same bytes read as UYVY mean something else: the byte order really is used.
    assert not np.array_equal(to_bgr(yuyv.tobytes(), 'uyvy', 4, 1, 8), out)


def test_input_buffer_types_and_zero_copy():
    image = _known_image()
    data = image.tobytes()
    for buffer in (data, bytearray(data), memoryview(data), array.array('B', data),
                   np.frombuffer(data, np.uint8)):
        assert np.array_equal(to_bgr(buffer, 'bgr8', 16, 3, 48), image)
    source = np.frombuffer(data, np.uint8)
    assert np.shares_memory(to_bgr(source, 'bgr8', 16, 3, 48), source)
    assert np.shares_memory(to_bgr(data, 'bgr8', 16, 3, 48), np.frombuffer(data, np.uint8))


@pytest.mark.parametrize('encoding', SUPPORTED_ENCODINGS)
def test_from_bgr_inverts_to_bgr(encoding):
    image = _known_image(rows=4)
    raw = from_bgr(image, encoding)
    data, step = _padded(raw)
    out = to_bgr(data, encoding, 16, 4, step)
    if encoding.startswith('mono'):
        expected = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        assert np.array_equal(out, expected)
    elif encoding in ('yuv422_yuy2', 'yuyv', 'uyvy', 'yuv422'):
        assert np.abs(out.astype(int) - image.astype(int)).max() <= YUV_TOLERANCE
    else:
        assert np.array_equal(out, image)


@pytest.mark.parametrize('args,message', [
    (('nv12', 4, 2, 8), "unsupported encoding 'nv12'"),
    (('bgr8', 0, 2, 12), 'image size must be positive'),
    (('bgr8', 4, 0, 12), 'image size must be positive'),
    (('bgr8', 4, 2, 11), 'step 11 is shorter than width * bytes per pixel'),
    (('bgr8', 4, 3, 12), 'needs 36 bytes, got 24'),
    (('yuyv', 3, 2, 6), 'needs an even width'),
])
def test_errors_name_the_reason(args, message):
    with pytest.raises(ImageFormatError, match=re.escape(message)):
        to_bgr(bytes(24), *args)


def test_image_format_error_is_a_value_error():
    assert issubclass(ImageFormatError, ValueError)


def test_jpeg_round_trip_and_corrupt_data():
    image = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    decoded = jpeg_to_bgr(bgr_to_jpeg(image, quality=95))
    assert decoded.shape == image.shape
    # Quality 95 on a photo: a few levels of error on average, far from a wrong decode.
    assert np.abs(decoded.astype(int) - image.astype(int)).mean() < 3.0
    ok, png = cv2.imencode('.png', image)
    assert np.array_equal(jpeg_to_bgr(png.tobytes()), image)
    with pytest.raises(ImageFormatError, match='could not be decoded'):
        jpeg_to_bgr(b'\xff\xd8\xff\xe0 this is not a jpeg')
    with pytest.raises(ImageFormatError, match='empty'):
        jpeg_to_bgr(b'')


@pytest.mark.parametrize('encoding', SUPPORTED_ENCODINGS)
def test_same_pixels_as_cv_bridge(encoding):
    cv_bridge = pytest.importorskip('cv_bridge', reason='cv_bridge needs a ROS install')
    from sensor_msgs.msg import Image
    image = _known_image(rows=4)
    data, step = _padded(from_bgr(image, encoding))
    msg = Image(height=4, width=16, encoding=encoding, step=step, is_bigendian=0)
    msg.data = data
    try:
        expected = cv_bridge.CvBridge().imgmsg_to_cv2(msg, 'bgr8')
    except cv_bridge.CvBridgeError as e:
        pytest.skip(f'this cv_bridge does not convert {encoding}: {e}')
    assert np.array_equal(to_bgr(data, encoding, 16, 4, step), expected)
