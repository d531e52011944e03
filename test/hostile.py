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
Hostile compressed and raw frames built from real ones, for test_image_limits and test_fuzz.

Bombs are real encoded frames (sample_frames, cv2.imencode) whose JPEG frame header or PNG
IHDR was edited to declare another size (with the IHDR CRC recomputed so that decoders accept
the chunk). ``Mutator`` makes seeded, repeatable mutations: bit flips, truncations, edited
headers, inserted and deleted bytes, and wrong ``format`` strings; ``compressed_cases`` and
``raw_cases`` turn them (and random raw geometry) into messages.
"""

import random
import struct
from typing import List, Tuple
import zlib

import cv2
from facesense_ros.encodings import SUPPORTED_ENCODINGS
from facesense_ros.image_header import PNG_SIGNATURE
from facesense_ros.sample_frames import compose_frame
from sensor_msgs.msg import CompressedImage, Image

# What image_transport and others write into CompressedImage.format, right and wrong.
FORMATS = ('jpeg', 'png', 'bgr8; jpeg compressed bgr8', 'rgb8; compressed bgr8',
           'rgb8; png compressed bgr8', 'mono8; jpeg compressed mono8', '16UC1; compressedDepth',
           '', 'tiff', 'h264', 'x' * 300, '\u00e9\u00e8; jpeg')
# Encodings a camera might send that the node does not read, and made-up ones.
OTHER_ENCODINGS = ('bayer_rggb8', '32FC1', '16UC1', '8UC3', 'nv12', '', 'BGR8', 'rgb8 ',
                   'x' * 200)
# Raw data is at most this long: the fuzz is about geometry, not about copying megabytes.
MAX_RAW_BYTES = 1 << 20
# A 64x64 real frame encodes to under 2 KB: the size of the bomb in the issue.
BOMB_SOURCE_SIZE = (64, 64)


def encoded(kind: str, size: Tuple[int, int] = (160, 120), faces: int = 1, seed: int = 0,
            progressive: bool = False) -> bytes:
    """Return a real face frame of ``size`` encoded as 'jpeg' or 'png'."""
    # A quarter to half of the frame's height (a face's patch carries context around it).
    face_px = (min(64, min(size) // 4), min(200, min(size) // 2))
    frame, _ = compose_frame(faces, size=size, seed=seed, face_px=face_px)
    if kind == 'png':
        ok, data = cv2.imencode('.png', frame)
    else:
        ok, data = cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, 90,
                                                cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    assert ok
    return data.tobytes()


def sof_offset(jpeg: bytes) -> int:
    """Return the index of the frame header's height field (segments walked by length)."""
    position = 2
    while True:
        marker = jpeg[position + 1]
        length = int.from_bytes(jpeg[position + 2:position + 4], 'big')
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return position + 5
        position += 2 + length


def with_jpeg_size(jpeg: bytes, width: int, height: int) -> bytes:
    """Return ``jpeg`` with its frame header declaring width x height (16 bits each)."""
    at = sof_offset(jpeg)
    return jpeg[:at] + struct.pack('>HH', height, width) + jpeg[at + 4:]


def with_png_size(png: bytes, width: int, height: int, fix_crc: bool = True) -> bytes:
    """Return ``png`` with its IHDR declaring width x height, its CRC fixed (or not)."""
    ihdr = bytearray(png[12:29])  # type (4) + data (13)
    ihdr[4:12] = struct.pack('>II', width, height)
    crc = zlib.crc32(bytes(ihdr)) if fix_crc else int.from_bytes(png[29:33], 'big')
    return png[:12] + bytes(ihdr) + struct.pack('>I', crc) + png[33:]


def jpeg_bomb(width: int, height: int) -> bytes:
    """Return a real 64x64 JPEG whose frame header declares width x height (at most 65535)."""
    return with_jpeg_size(encoded('jpeg', BOMB_SOURCE_SIZE), width, height)


def png_bomb(width: int, height: int) -> bytes:
    """Return a real 64x64 PNG whose IHDR (CRC fixed) declares width x height."""
    return with_png_size(encoded('png', BOMB_SOURCE_SIZE), width, height)


def with_exif_thumbnail(jpeg: bytes, thumbnail: bytes) -> bytes:
    """Return ``jpeg`` with an APP1 segment holding ``thumbnail`` (a whole JPEG) after SOI."""
    payload = b'Exif\x00\x00' + thumbnail
    return jpeg[:2] + b'\xff\xe1' + struct.pack('>H', len(payload) + 2) + payload + jpeg[2:]


class Mutator:
    """Seeded mutations of real encoded frames; the same seed gives the same sequence."""

    KINDS = ('bit flips', 'truncation', 'edited size', 'byte runs', 'insert/delete', 'splice')

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def size(self) -> Tuple[int, int]:
        """Return a declared size: zero, tiny, around the original, or far over any limit."""
        pick = self.rng.random()
        if pick < 0.1:
            return self.rng.choice([(0, 10), (10, 0), (0, 0)])
        if pick < 0.6:
            return self.rng.randint(1, 400), self.rng.randint(1, 400)
        return self.rng.randint(8000, 65535), self.rng.randint(8000, 65535)

    def mutate(self, data: bytes, kind: str) -> bytes:
        """Return one mutation of ``data`` of ``kind`` (one of KINDS)."""
        rng = self.rng
        out = bytearray(data)
        if kind == 'bit flips':
            for _ in range(rng.randint(1, 32)):
                at = rng.randrange(len(out))
                out[at] ^= 1 << rng.randrange(8)
        elif kind == 'truncation':
            out = out[:rng.randrange(len(out))]
        elif kind == 'edited size':
            width, height = self.size()
            if data.startswith(PNG_SIGNATURE):
                return with_png_size(data, width, height, fix_crc=rng.random() < 0.8)
            return with_jpeg_size(data, min(width, 65535), min(height, 65535))
        elif kind == 'byte runs':
            at = rng.randrange(len(out))
            out[at:at + rng.randint(1, 64)] = bytes([rng.choice((0, 0xFF, rng.randrange(256)))]
                                                    * rng.randint(1, 64))
        elif kind == 'insert/delete':
            at = rng.randrange(len(out))
            if rng.random() < 0.5:
                del out[at:at + rng.randint(1, 16)]
            else:
                out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            # The head of one file on the tail of another: headers that lie about the data.
            cut = rng.randrange(len(out))
            out = out[:cut] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 4096)))
        return bytes(out)

    def cases(self, sources: List[bytes], count: int):
        """Yield ``count`` (kind, data, format string) triples from mutations of ``sources``."""
        for _ in range(count):
            kind = self.rng.choice(self.KINDS)
            data = self.mutate(self.rng.choice(sources), kind)
            yield kind, data, self.rng.choice(FORMATS)


def compressed_cases(seed, count):
    """Return an iterator of (label, CompressedImage) mutations of real JPEG and PNG frames."""
    # Encoded now, so that loading the photos is not part of the run's peak.
    sources = [encoded('jpeg', (160, 120)), encoded('png', (160, 120)),
               encoded('jpeg', (160, 120), progressive=True),
               encoded('jpeg', (640, 480), faces=2, seed=1),
               encoded('png', (64, 64))]

    def messages():
        for kind, data, fmt in Mutator(seed).cases(sources, count):
            msg = CompressedImage(format=fmt)
            msg.data = data
            yield kind, msg
    return messages()


def _raw_size(rng):
    pick = rng.random()
    if pick < 0.1:
        return 0
    if pick < 0.7:
        return rng.randint(1, 300)
    if pick < 0.9:
        return rng.randint(300, 20000)
    return rng.randint(20000, 2 ** 32 - 1)


def raw_cases(seed, count):
    """Yield (label, Image) messages with random encodings, geometry and data lengths."""
    rng = random.Random(seed)
    for _ in range(count):
        encoding = rng.choice(SUPPORTED_ENCODINGS + OTHER_ENCODINGS)
        width, height = _raw_size(rng), _raw_size(rng)
        row = width * {'bgr8': 3, 'rgb8': 3, 'bgra8': 4, 'rgba8': 4, 'mono8': 1}.get(encoding, 2)
        step = rng.choice([row, row + rng.randint(1, 7), max(row - 1, 0), rng.randrange(2 ** 32),
                           0])
        needed = step * height
        length = rng.choice([needed, needed - 1, needed + rng.randint(1, 64), rng.randint(0, 64),
                             rng.randint(0, MAX_RAW_BYTES)])
        length = max(0, min(length, MAX_RAW_BYTES))
        msg = Image(width=width, height=height, encoding=encoding, step=step,
                    is_bigendian=rng.randint(0, 1))
        msg.data = rng.randbytes(length) if length < 4096 else bytes(length)
        yield f'{encoding} {width}x{height} step {step} data {length}', msg
