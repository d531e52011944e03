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

"""image_source and face_listener, run from their console scripts as real processes."""

from pathlib import Path
import re
import signal
import time

import cv2
from facesense_ros.conversions import faces_to_detections
from facesense_ros.encodings import jpeg_to_bgr, SUPPORTED_ENCODINGS, to_bgr
from facesense_ros.face import Face
from facesense_ros.sample_frames import astronaut
import hostile
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
import rosutil
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

# Small frames: every process here sends a few, and 4:2:2 needs an even width.
WIDTH, HEIGHT = 64, 48
# 4:2:2 halves the colour resolution of a photo: a few levels on average.
YUV_MEAN_ERROR = 4.0
# JPEG at image_source's default quality 90 on a small photo.
JPEG_MEAN_ERROR = 6.0
# The test's clock and the stamps of image_source come from the same machine clock.
STAMP_SLACK_SEC = 120.0
# Distinct flat colours (BGR) for a folder of frames whose order can be checked.
FOLDER_COLOURS = ((0, 0, 255), (0, 255, 0), (255, 0, 0))
# Frames of the start-up test: one second at 30 fps, each a distinct grey level (index * 8).
START_FRAMES = 30
START_FPS = 30.0
START_LEVEL_STEP = 8
# How long frames sent just before image_source exited may still take to arrive (a bound only).
IN_FLIGHT_SEC = 5.0


tester = rosutil.module_tester('image_source_tester')


@pytest.fixture(scope='module')
def photo(tmp_path_factory):
    image = cv2.resize(astronaut(), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    path = tmp_path_factory.mktemp('photo') / 'astronaut.png'
    cv2.imwrite(str(path), image)
    return path, image


def _run_to_end(tester, process, inbox, frames):
    """Wait for ``frames`` messages and for the process to exit by itself; return its code."""
    assert tester.spin_until(lambda: len(inbox) >= frames and not process.running(),
                             rosutil.DISCOVERY_TIMEOUT), process.output()
    return process.wait()


def test_every_encoding(tester, photo):
    path, image = photo
    inboxes, processes = {}, {}
    # All encodings at once: one process each, in its own namespace.
    for index, encoding in enumerate(SUPPORTED_ENCODINGS):
        namespace = f'/enc{index}'
        inboxes[encoding] = tester.collect(Image, f'{namespace}/image_raw')
        processes[encoding] = rosutil.start('image_source', namespace=namespace, params={
            'source': str(path), 'encoding': encoding, 'max_frames': 2, 'fps': 10.0,
            'frame_id': f'cam_{index}', 'wait_for_subscribers': 1})
    now = tester.node.get_clock().now().nanoseconds * 1e-9
    grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    for index, encoding in enumerate(SUPPORTED_ENCODINGS):
        assert _run_to_end(tester, processes[encoding], inboxes[encoding], 2) == 0
        msg = inboxes[encoding][0]
        assert (msg.encoding, msg.width, msg.height) == (encoding, WIDTH, HEIGHT)
        assert msg.header.frame_id == f'cam_{index}'
        assert abs(msg.header.stamp.sec - now) < STAMP_SLACK_SEC
        got = to_bgr(msg.data, msg.encoding, msg.width, msg.height, msg.step,
                     bool(msg.is_bigendian))
        if encoding in ('bgr8', 'rgb8', 'bgra8', 'rgba8'):
            assert np.array_equal(got, image), encoding
        elif encoding.startswith('mono'):
            assert np.array_equal(got, grey), encoding
        else:
            assert np.abs(got.astype(int) - image.astype(int)).mean() < YUV_MEAN_ERROR, encoding
        tester.node.destroy_subscription(inboxes[encoding].subscription)


def test_compressed_transport(tester, photo):
    path, image = photo
    inbox = tester.collect(CompressedImage, '/jpeg/image_raw/compressed')
    process = rosutil.start('image_source', namespace='/jpeg', params={
        'source': str(path), 'transport': 'compressed', 'max_frames': 1,
        'wait_for_subscribers': 1})
    try:
        assert _run_to_end(tester, process, inbox, 1) == 0
        got = jpeg_to_bgr(inbox[0].data)
        assert got.shape == image.shape
        assert np.abs(got.astype(int) - image.astype(int)).mean() < JPEG_MEAN_ERROR
        assert 'jpeg' in inbox[0].format
    finally:
        tester.node.destroy_subscription(inbox.subscription)


def _colour_frames(folder, names):
    folder.mkdir()
    for name, colour in zip(names, FOLDER_COLOURS):
        cv2.imwrite(str(folder / name), np.full((HEIGHT, WIDTH, 3), colour, np.uint8))


def test_folder_in_order_without_loop(tester, tmp_path):
    # Written out of order: image_source sorts by name.
    _colour_frames(tmp_path / 'frames', ['002.png', '000.png', '001.png'])
    inbox = tester.collect(Image, '/folder/image_raw')
    process = rosutil.start('image_source', namespace='/folder', params={
        'source': str(tmp_path / 'frames'), 'loop': False, 'fps': 20.0,
        'wait_for_subscribers': 1})
    try:
        assert _run_to_end(tester, process, inbox, 3) == 0
        tester.spin_for(0.5)
        firsts = [tuple(np.frombuffer(m.data, np.uint8)[:3]) for m in inbox]
        assert firsts == [FOLDER_COLOURS[1], FOLDER_COLOURS[2], FOLDER_COLOURS[0]]
    finally:
        tester.node.destroy_subscription(inbox.subscription)


def test_video_file(tester, tmp_path):
    path = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for value in range(0, 250, 50):
        writer.write(np.full((HEIGHT, WIDTH, 3), value, np.uint8))
    writer.release()
    inbox = tester.collect(Image, '/video/image_raw')
    process = rosutil.start('image_source', namespace='/video', params={
        'source': str(path), 'loop': False, 'fps': 20.0, 'wait_for_subscribers': 1})
    try:
        assert _run_to_end(tester, process, inbox, 5) == 0
        tester.spin_for(0.5)
        levels = [int(np.frombuffer(m.data, np.uint8).mean()) for m in inbox]
        # MJPG is lossy: each frame within a few levels of what was written, in order.
        assert len(levels) == 5
        assert all(abs(level - value) <= 4 for level, value in zip(levels, range(0, 250, 50)))
    finally:
        tester.node.destroy_subscription(inbox.subscription)


def test_fresh_best_effort_subscriber_gets_every_frame_from_the_first(tester, tmp_path):
    """
    With wait_for_subscribers, a best-effort reader that joins after image_source loses nothing.

    The reader is a new DDS participant (its own context) created after image_source is up,
    as a node started after the camera is: without start_delay, image_source's writer matches
    it before it matches the writer, and its first 2-3 frames at 30 fps were lost.
    """
    folder = tmp_path / 'numbered'
    folder.mkdir()
    for index in range(START_FRAMES):
        cv2.imwrite(str(folder / f'{index:03d}.png'),
                    np.full((HEIGHT, WIDTH, 3), index * START_LEVEL_STEP, np.uint8))
    # image_source's own (reliable) writer and a best-effort reader: what usb_cam and the
    # node's default subscription do.
    process = rosutil.start('image_source', namespace='/fresh', params={
        'source': str(folder), 'loop': False, 'fps': START_FPS, 'wait_for_subscribers': 1})
    fresh = None
    try:
        assert tester.wait_for_publishers('/fresh/image_raw'), process.output()
        fresh = rosutil.RosTester('fresh_subscriber')
        # Deep enough to hold the whole run: only the start-up can lose frames.
        inbox = fresh.collect(Image, '/fresh/image_raw', QoSProfile(
            depth=START_FRAMES, reliability=ReliabilityPolicy.BEST_EFFORT))
        assert fresh.spin_until(lambda: not process.running(), rosutil.STARTUP_TIMEOUT), \
            process.output()
        assert process.wait() == 0, process.output()
        # The last frames may still be on their way when the process exits.
        fresh.spin_until(lambda: len(inbox) >= START_FRAMES, IN_FLIGHT_SEC)
        levels = [int(np.frombuffer(m.data, np.uint8)[0]) // START_LEVEL_STEP for m in inbox]
        assert levels == list(range(START_FRAMES)), levels
    finally:
        process.stop()
        if fresh is not None:
            fresh.close()


def test_bad_start_delay_exits_1_naming_it(photo):
    process = rosutil.start('image_source', params={'source': str(photo[0]),
                                                    'start_delay': -1.0})
    assert process.wait() == 1
    [line] = rosutil.error_lines(process.output())
    assert 'start_delay' in line and '-1.0' in line, line


@pytest.mark.parametrize('params,name', [
    ({'source': '/no/such/file.png'}, 'source'),
    ({'source': "''"}, 'source'),
    ({'encoding': 'nv12'}, 'encoding'),
    ({'transport': 'theora'}, 'transport'),
    ({'fps': 0.0}, 'fps'),
    # Integers are camera indexes: none can be opened here, one line says so.
    ({'source': 0}, 'camera 0'),
    ({'source': -1}, 'source'),
    ({'source': 1.5}, 'source'),
    ({'loop': 5}, 'loop'),
    ({'max_frames': 'many'}, 'max_frames'),
    ({'fps': 'fast'}, 'fps'),
])
def test_bad_parameters_exit_1_with_one_line(photo, params, name):
    process = rosutil.start('image_source', params={'source': str(photo[0]), **params})
    assert process.wait() == 1
    output = process.output()
    assert 'Traceback' not in output
    [line] = [line for line in output.splitlines() if '[ERROR]' in line]
    assert name in line


@pytest.mark.parametrize('kind,limit,expected', [
    ('bomb.png', None, 'PNG declares 100000x100000 = 10,000,000,000 pixels, over '
     'max_input_pixels 33,177,600'),
    ('bomb.jpg', None, 'JPEG declares 65535x65535'),
    ('photo.png', WIDTH * HEIGHT - 1, f'PNG declares {WIDTH}x{HEIGHT}'),
    # No header reader for BMP: refused once decoded.
    ('photo.bmp', WIDTH * HEIGHT - 1, f'BMP declares {WIDTH}x{HEIGHT}'),
    ('photo.png', 0, 'parameter max_input_pixels must be in 1..1073741824, got 0'),
])
def test_file_over_max_input_pixels_exits_1_naming_it(tmp_path, photo, kind, limit, expected):
    path = tmp_path / kind
    if kind == 'bomb.png':
        path.write_bytes(hostile.png_bomb(100000, 100000))
    elif kind == 'bomb.jpg':
        path.write_bytes(hostile.jpeg_bomb(65535, 65535))
    else:
        cv2.imwrite(str(path), photo[1])
    params = {'source': str(path)}
    if limit is not None:
        params['max_input_pixels'] = limit
    process = rosutil.start('image_source', params=params)
    assert process.wait() == 1
    output = process.output()
    assert 'Traceback' not in output
    [line] = rosutil.error_lines(output)
    assert expected in line, line
    if limit != 0:
        assert str(path) in line, line


def _clean_stop(process, sig):
    """Assert that ``sig`` stops ``process`` with exit code 0 and nothing alarming printed."""
    code = process.stop(sig)
    output = process.output()
    assert code == 0, output
    for alarm in ('Traceback', 'rosout', '[ERROR]', 'KeyboardInterrupt'):
        assert alarm not in output, output


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_signal_exits_cleanly(tester, photo, sig):
    inbox = tester.collect(Image, '/signal/image_raw')
    # 200 fps: a frame is being converted or published most of the time, where rclpy's own
    # handler (shutting the context down under the callback) failed 1 run in 2 with exit 1.
    process = rosutil.start('image_source', namespace='/signal',
                            params={'source': str(photo[0]), 'fps': 200.0})
    try:
        assert tester.spin_until(lambda: len(inbox) > 0, rosutil.DISCOVERY_TIMEOUT)
        tester.spin_until(lambda: len(inbox) > 20, rosutil.DISCOVERY_TIMEOUT)
        _clean_stop(process, sig)
    finally:
        tester.node.destroy_subscription(inbox.subscription)


def _catches_stop_signals(pid: int) -> bool:
    """Whether process ``pid`` handles SIGINT and SIGTERM itself (Linux: SigCgt in its status)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('SigCgt:'):
            caught = int(line.split()[1], 16)
            return all(caught >> (sig - 1) & 1 for sig in (signal.SIGINT, signal.SIGTERM))
    return False


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_signal_at_any_moment_of_start_up_exits_cleanly(photo, sig):
    # From the moment its handlers are installed (the console script's first step, before it
    # imports OpenCV and rclpy; before that Python's defaults apply) through imports, node
    # creation and publishing: one fixed delay would miss a step, a loop over delays does not.
    for delay in (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2):
        process = rosutil.start('image_source', params={'source': str(photo[0]), 'fps': 50.0})
        deadline = time.monotonic() + rosutil.DISCOVERY_TIMEOUT
        while not _catches_stop_signals(process.pid):
            assert process.running() and time.monotonic() < deadline, process.output()
            time.sleep(0.002)
        time.sleep(delay)
        _clean_stop(process, sig)


def test_waiting_reports_matched_subscribers(tester, photo):
    inbox = tester.collect(Image, '/waiting/image_raw')
    process = rosutil.start('image_source', namespace='/waiting',
                            params={'source': str(photo[0]), 'wait_for_subscribers': 2})
    try:
        def reports():
            return [line for line in process.output().splitlines()
                    if 'waiting for subscribers on /waiting/image_raw' in line]
        # Reports go on while it waits (2 needed, 1 matched): at least three lines.
        assert tester.spin_until(lambda: len(reports()) >= 3 and '1 of 2 matched' in
                                 reports()[-1], rosutil.DISCOVERY_TIMEOUT), process.output()
        assert not inbox
        # At most one line every WAIT_REPORT_SEC (3 s), by the stamps of the lines themselves.
        stamps = [float(re.search(r'\[(\d+\.\d+)\]', line).group(1)) for line in reports()]
        assert all(b - a >= 2.9 for a, b in zip(stamps, stamps[1:])), reports()
    finally:
        _clean_stop(process, signal.SIGINT)
        tester.node.destroy_subscription(inbox.subscription)


def test_face_listener_logs_one_line_per_face(tester):
    process = rosutil.start('face_listener', namespace='/listen')
    publisher = tester.node.create_publisher(Detection2DArray, '/listen/faces/detections',
                                             rosutil.RELIABLE)
    try:
        assert tester.wait_for_subscribers(publisher)
        faces = [
            Face(10.0, 20.0, 110.0, 150.0, 0.97, age=34.4, gender=(0.93, 0.07),
                 emotion=(0.1, 0.81, 0.04, 0.03, 0.02), track_id=3),
            Face(200.0, 20.0, 240.0, 70.0, 0.7, track_id=4),
        ]
        publisher.publish(faces_to_detections(faces, Header(frame_id='cam')))
        expected = ('id=3 gender=female(0.93) age=34 emotion=happy(0.81)', 'id=4')
        assert tester.spin_until(lambda: all(e in process.output() for e in expected),
                                 rosutil.DISCOVERY_TIMEOUT), process.output()
        lines = [line for line in process.output().splitlines() if 'face_listener' in line]
        assert len(lines) == 2
    finally:
        assert process.stop() == 0
        tester.node.destroy_publisher(publisher)
