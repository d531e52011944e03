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
The declared size of JPEG and PNG bytes, read from their headers without decoding (no ROS).

A compressed image says how big it is before any pixel: JPEG in its frame header (an SOF
marker segment), PNG in its IHDR chunk. A decoder allocates what the header declares, so the
size must be checked before the bytes reach one (encodings.compressed_to_bgr does).

The JPEG reader walks the marker segments from SOI by their lengths, exactly as libjpeg does
for a well-formed file, so an SOF inside an APP1 (EXIF) thumbnail is skipped with its segment
and never mistaken for the frame's. Anything that libjpeg would only read after resyncing
(bytes between segments, a scan before the frame header) is refused here, so that the frame
header read here is the one the decoder reads.
"""

from typing import NamedTuple, Union

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_SOI = b'\xff\xd8'
# SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_SOS, _EOI, _TEM = 0xDA, 0xD9, 0x01
# Markers that stand alone, without a length: RST0..RST7, SOI, EOI, TEM.
_STANDALONE = frozenset(range(0xD0, 0xDA)) | {_TEM}
# Real files carry a handful of segments before the frame header (APP0/APP1/APP2 ICC chunks,
# DQT, COM); 64 KB ICC profiles split into APP2 chunks reach a few dozen. Each segment costs a
# Python step here, so a file made of millions of empty segments must not: a bound well above
# real files.
MAX_JPEG_SEGMENTS = 1000
# A JPEG scan (SOS) costs the decoder a pass over every block of the frame, however few bytes
# it holds, so a small progressive file repeating scans costs many times a normal decode.
# libjpeg's own progressive files have 10 scans, mozjpeg's up to ~20; libjpeg-turbo recommends
# a limit of 500 (TJPARAM_SCANLIMIT). 100 is far above real files and bounds the cost.
MAX_JPEG_SCANS = 100


class HeaderError(ValueError):
    """The bytes are not a JPEG or PNG whose declared size can be read."""


class DeclaredSize(NamedTuple):
    """What a compressed image's header declares: its format ('jpeg' or 'png') and size."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """Return width * height."""
        return self.width * self.height


def declared_size(data: Union[bytes, bytearray, memoryview]) -> DeclaredSize:
    """
    Return the format and size that ``data`` declares, from its header alone.

    Raises HeaderError naming why it cannot be read: not JPEG or PNG, truncated, malformed,
    a zero size, or (JPEG) more than MAX_JPEG_SCANS scans.
    """
    data = bytes(data) if not isinstance(data, bytes) else data
    if data.startswith(PNG_SIGNATURE):
        return _png_size(data)
    if data.startswith(JPEG_SOI):
        return _jpeg_size(data)
    if not data:
        raise HeaderError('compressed image is empty')
    raise HeaderError(f'compressed image of {len(data)} bytes is neither JPEG nor PNG (starts '
                      f'with {data[:8].hex(" ")})')


def _png_size(data: bytes) -> DeclaredSize:
    # PNG: the IHDR chunk comes first (length 13, type, width, height, ...), big-endian.
    ihdr = data[8:24]
    if len(ihdr) < 16:
        raise HeaderError(f'PNG of {len(data)} bytes is truncated before its IHDR size')
    length, kind = int.from_bytes(ihdr[0:4], 'big'), ihdr[4:8]
    if kind != b'IHDR' or length != 13:
        raise HeaderError(f'PNG does not start with an IHDR chunk of 13 bytes (found {kind!r} '
                          f'of {length})')
    return _checked('png', int.from_bytes(ihdr[8:12], 'big'), int.from_bytes(ihdr[12:16], 'big'))


def _jpeg_size(data: bytes) -> DeclaredSize:
    position = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        if position >= len(data) or data[position] != 0xFF:
            raise HeaderError(_jpeg_problem(data, position, 'expected a marker'))
        # Any number of 0xFF fill bytes may precede a marker code.
        while position < len(data) and data[position] == 0xFF:
            position += 1
        if position >= len(data):
            raise HeaderError(_jpeg_problem(data, position, 'expected a marker'))
        marker = data[position]
        position += 1
        if marker in _STANDALONE or marker == 0x00:
            if marker in (_EOI, 0xD8, 0x00):
                raise HeaderError(_jpeg_problem(data, position - 1,
                                                f'marker {marker:02X} before the frame header'))
            continue
        if marker == _SOS:
            raise HeaderError(_jpeg_problem(data, position - 1, 'scan before the frame header'))
        if position + 2 > len(data):
            raise HeaderError(_jpeg_problem(data, position, 'truncated segment length'))
        length = int.from_bytes(data[position:position + 2], 'big')
        if length < 2:
            raise HeaderError(_jpeg_problem(data, position, f'segment length {length}'))
        if marker in _SOF_MARKERS:
            # length, precision (1 byte), height, width (2 bytes each, big-endian)
            if length < 8 or position + 7 > len(data):
                raise HeaderError(_jpeg_problem(data, position, 'truncated frame header'))
            height = int.from_bytes(data[position + 3:position + 5], 'big')
            width = int.from_bytes(data[position + 5:position + 7], 'big')
            size = _checked('jpeg', width, height)
            # In entropy-coded data every 0xFF is followed by 0x00 (stuffing) or RST: FF DA
            # is always a real SOS marker, and count() reads the bytes in C.
            scans = data.count(b'\xff\xda', position)
            if scans > MAX_JPEG_SCANS:
                raise HeaderError(f'JPEG {width}x{height} has {scans} scans, more than '
                                  f'{MAX_JPEG_SCANS} (each costs a pass over the frame)')
            return size
        position += length
    raise HeaderError(f'JPEG has more than {MAX_JPEG_SEGMENTS} segments before its frame header')


def _jpeg_problem(data: bytes, position: int, what: str) -> str:
    if position >= len(data):
        return f'JPEG of {len(data)} bytes is truncated before its frame header ({what})'
    return f'JPEG frame header cannot be read: {what} at byte {position} of {len(data)}'


def _checked(kind: str, width: int, height: int) -> DeclaredSize:
    if width == 0 or height == 0:
        # JPEG may leave the height to a DNL marker after the first scan: no decoder we use
        # supports that, and the size would not be known before decoding.
        raise HeaderError(f'{kind.upper()} declares a size of {width}x{height}')
    return DeclaredSize(kind, width, height)
