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
Seeded fuzzing of the input conversions: only ImageFormatError may come out, memory bounded.

Thousands of mutations of real JPEG and PNG frames (test/hostile.py: bit flips, truncations,
edited headers, byte runs, inserted and deleted bytes, spliced tails, wrong ``format``
strings) go through compressed_msg_to_bgr, and thousands of raw sensor_msgs/Image messages
with random encodings, width, height, step and data lengths through image_msg_to_bgr. The
seeds are fixed: a failure names the case's index, and the same run reproduces it. The peak
resident size of this process is reset before each run (/proc/self/clear_refs) and bounded.
"""

import random
import re

from facesense_ros.conversions import compressed_msg_to_bgr, image_msg_to_bgr
from facesense_ros.encodings import (DEFAULT_MAX_INPUT_PIXELS, ImageFormatError,
                                     OversizedImageError, SUPPORTED_ENCODINGS)
import hostile
import pytest
from sensor_msgs.msg import CompressedImage, Image

COMPRESSED_SEED, RAW_SEED = 12, 34
COMPRESSED_CASES = 10000
RAW_CASES = 10000
# Encodings a camera might send that the node does not read, and made-up ones.
OTHER_ENCODINGS = ('bayer_rggb8', '32FC1', '16UC1', '8UC3', 'nv12', '', 'BGR8', 'rgb8 ',
                   'x' * 200)
# Raw data is at most this long: the fuzz is about geometry, not about copying megabytes.
MAX_RAW_BYTES = 1 << 20
# Peak resident size above the size before the run. A flipped bit in a frame header can make
# a 2 KB JPEG declare anything up to max_input_pixels, which the decoder then fills in: at
# most DEFAULT_MAX_INPUT_PIXELS * 3 bytes of BGR output (95 MB). Raw frames hold under 1 MB.
# On top of that: the decoder's buffers, the interpreter's and the allocator's arenas.
ALLOCATOR_SLACK_MB = 64
PEAK_GROWTH_MB = DEFAULT_MAX_INPUT_PIXELS * 3 / 2 ** 20 + ALLOCATOR_SLACK_MB


def _status_kb(key):
    with open('/proc/self/status') as status:
        return int(re.search(rf'^{key}:\s+(\d+)', status.read(), re.M).group(1))


def _reset_peak():
    # Writing 5 resets VmHWM to the current resident size (Linux >= 4.0).
    with open('/proc/self/clear_refs', 'w') as clear_refs:
        clear_refs.write('5')
    return _status_kb('VmRSS')


def _run(cases, convert):
    """Convert every case; return outcome counts, the largest decode and peak RSS growth (MB)."""
    start_kb = _reset_peak()
    counts = {'decoded': 0, 'oversized': 0, 'refused': 0}
    largest = (0, 0)
    for index, (label, msg) in enumerate(cases):
        try:
            image = convert(msg)
        except OversizedImageError:
            counts['oversized'] += 1
        except ImageFormatError:
            counts['refused'] += 1
        except Exception as e:  # noqa: B902 - any other exception is the failure to report
            pytest.fail(f'case {index} ({label}): {type(e).__name__}: {e}')
        else:
            assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == 'uint8', label
            counts['decoded'] += 1
            largest = max(largest, image.shape[1::-1], key=lambda size: size[0] * size[1])
    return counts, largest, (_status_kb('VmHWM') - start_kb) / 1024


def compressed_cases(seed=COMPRESSED_SEED, count=COMPRESSED_CASES):
    """Return an iterator of (label, CompressedImage) mutations of real JPEG and PNG frames."""
    # Encoded now, so that loading the photos is not part of the run's peak.
    sources = [hostile.encoded('jpeg', (160, 120)), hostile.encoded('png', (160, 120)),
               hostile.encoded('jpeg', (160, 120), progressive=True),
               hostile.encoded('jpeg', (640, 480), faces=2, seed=1),
               hostile.encoded('png', (64, 64))]

    def messages():
        for kind, data, fmt in hostile.Mutator(seed).cases(sources, count):
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


def raw_cases(seed=RAW_SEED, count=RAW_CASES):
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


def test_compressed_mutations_only_raise_image_format_error(capsys):
    counts, largest, growth_mb = _run(compressed_cases(), compressed_msg_to_bgr)
    with capsys.disabled():
        print(f'\n[fuzz] {COMPRESSED_CASES} compressed mutations (seed {COMPRESSED_SEED}): '
              f'{counts}, largest decoded {largest[0]}x{largest[1]}, peak RSS '
              f'+{growth_mb:.1f} MB')
    assert sum(counts.values()) == COMPRESSED_CASES
    # The mix really exercises each path: decodes, refusals and oversized headers.
    assert min(counts.values()) > COMPRESSED_CASES // 50, counts
    assert growth_mb < PEAK_GROWTH_MB


def test_raw_messages_only_raise_image_format_error(capsys):
    counts, largest, growth_mb = _run(raw_cases(), image_msg_to_bgr)
    with capsys.disabled():
        print(f'\n[fuzz] {RAW_CASES} raw messages (seed {RAW_SEED}): {counts}, largest '
              f'converted {largest[0]}x{largest[1]}, peak RSS +{growth_mb:.1f} MB')
    assert sum(counts.values()) == RAW_CASES
    assert min(counts.values()) > RAW_CASES // 50, counts
    assert growth_mb < PEAK_GROWTH_MB


def test_the_same_seed_gives_the_same_cases():
    first = [bytes(msg.data) for _, msg in compressed_cases(count=50)]
    assert first == [bytes(msg.data) for _, msg in compressed_cases(count=50)]
    raw = [(m.width, m.height, m.step, len(m.data)) for _, m in raw_cases(count=50)]
    assert raw == [(m.width, m.height, m.step, len(m.data)) for _, m in raw_cases(count=50)]
