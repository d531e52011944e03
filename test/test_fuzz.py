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

import re

from facesense_ros.conversions import compressed_msg_to_bgr, image_msg_to_bgr
from facesense_ros.encodings import (DEFAULT_MAX_INPUT_PIXELS, ImageFormatError,
                                     OversizedImageError)
import hostile
import pytest

COMPRESSED_SEED, RAW_SEED = 12, 34
COMPRESSED_CASES = 10000
RAW_CASES = 10000
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


def test_compressed_mutations_only_raise_image_format_error(capsys):
    counts, largest, growth_mb = _run(hostile.compressed_cases(COMPRESSED_SEED, COMPRESSED_CASES),
                                      compressed_msg_to_bgr)
    with capsys.disabled():
        print(f'\n[fuzz] {COMPRESSED_CASES} compressed mutations (seed {COMPRESSED_SEED}): '
              f'{counts}, largest decoded {largest[0]}x{largest[1]}, peak RSS '
              f'+{growth_mb:.1f} MB')
    assert sum(counts.values()) == COMPRESSED_CASES
    # The mix really exercises each path: decodes, refusals and oversized headers.
    assert min(counts.values()) > COMPRESSED_CASES // 50, counts
    assert growth_mb < PEAK_GROWTH_MB


def test_raw_messages_only_raise_image_format_error(capsys):
    counts, largest, growth_mb = _run(hostile.raw_cases(RAW_SEED, RAW_CASES), image_msg_to_bgr)
    with capsys.disabled():
        print(f'\n[fuzz] {RAW_CASES} raw messages (seed {RAW_SEED}): {counts}, largest '
              f'converted {largest[0]}x{largest[1]}, peak RSS +{growth_mb:.1f} MB')
    assert sum(counts.values()) == RAW_CASES
    assert min(counts.values()) > RAW_CASES // 50, counts
    assert growth_mb < PEAK_GROWTH_MB


def test_the_same_seed_gives_the_same_cases():
    def compressed(seed):
        return [bytes(msg.data) for _, msg in hostile.compressed_cases(seed, 50)]

    def raw(seed):
        return [(m.width, m.height, m.step, bytes(m.data))
                for _, m in hostile.raw_cases(seed, 50)]
    assert compressed(COMPRESSED_SEED) == compressed(COMPRESSED_SEED)
    assert compressed(COMPRESSED_SEED) != compressed(COMPRESSED_SEED + 1)
    assert raw(RAW_SEED) == raw(RAW_SEED)
    assert raw(RAW_SEED) != raw(RAW_SEED + 1)
