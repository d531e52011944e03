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
`make demo`: the whole product end to end, with no camera.

Writes a short moving sequence of real face photos (scikit-image's bundled pictures, composited)
to demo_output/input/, publishes it with the package's own `image_source` (one process), runs
`facesense_node` with config/facesense.yaml (another process), and records what the node
publishes from this third process: annotated frames as PNG (demo_output/frames/), every
Detection2DArray decoded as one JSON line (demo_output/detections.jsonl), and a one-screen summary.
"""

import argparse
from collections import Counter
import json
import os
from pathlib import Path
import sys
import time

import cv2
import numpy as np
# dev/processes.py: dev/ is first on sys.path when this script runs.
from processes import loopback_shm_profile, profile_env, ROOT, start, stop
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

NAMESPACE = '/demo'
# Slow enough that the node keeps up on 2 shared cores, so every frame is annotated.
DEFAULT_FPS = 8.0
# The node compiles three models and discovery takes seconds: wait this long for it to be up.
STARTUP_TIMEOUT = 60.0
# After the last frame was sent, results may still be on their way.
DRAIN_TIMEOUT = 10.0
# The bar: every face at least this big (the age-gender input) has head pose and
# landmarks.
GEOMETRY_MIN_PX = 62
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


def write_input_frames(folder: Path, n_frames: int, n_faces: int):
    """Write the moving sequence as PNGs; return the true boxes per frame."""
    from facesense_ros.sample_frames import moving_sequence
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob('*.png'):
        old.unlink()
    truth = []
    for index, (frame, people) in enumerate(moving_sequence(n_frames=n_frames,
                                                            n_faces=n_faces)):
        cv2.imwrite(str(folder / f'{index:04d}.png'), frame)
        truth.append(people)
    return truth


class Recorder(Node):
    """Subscribes the node's outputs and keeps them in memory."""

    def __init__(self):
        super().__init__('demo_recorder', namespace=NAMESPACE)
        self.detections = []
        self.images = {}
        self.create_subscription(Detection2DArray, 'faces/detections', self._on_detections,
                                 RELIABLE)
        self.create_subscription(Image, 'faces/image', self._on_image, RELIABLE)

    def _on_detections(self, msg):
        self.detections.append((time.time(), msg))

    def _on_image(self, msg):
        stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        pixels = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
        self.images[stamp] = pixels[:, :msg.width * 3].reshape(msg.height, msg.width, 3).copy()


def _start(executable, args, log_path, env):
    log = open(log_path, 'w')
    return start(executable, args, log, env), log


def _spin_until(executor, predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    return predicate()


def run(args):
    """Run the demo end to end; return the exit code."""
    from facesense_ros.conversions import detections_to_records
    out = Path(args.output)
    frames_dir = out / 'frames'
    frames_dir.mkdir(parents=True, exist_ok=True)
    for old in frames_dir.glob('*.png'):
        old.unlink()
    write_input_frames(out / 'input', args.frames, args.faces)

    # As the launch files run them (shm:=true): the shipped shared-memory profile, here with UDP
    # bound to loopback. Without it, the node's reliable faces/image (900 KB) to the recorder
    # travels as UDP fragments and stalls the node: p50 162-538 ms instead of 12 ms
    # (docs/performance.md).
    env = profile_env(loopback_shm_profile(out / 'fastdds_shm.xml'))
    rclpy.init()
    recorder = Recorder()
    executor = SingleThreadedExecutor()
    executor.add_node(recorder)
    node, node_log = _start('facesense_node', [
        '-r', f'__ns:={NAMESPACE}', '--params-file', str(ROOT / 'config' / 'facesense.yaml'),
        '-p', f'model_dir:={os.environ.get("FACESENSE_MODEL_DIR", "")}',
        # Loopback-only UDP here loses 40-65 % of 640x480 frames to a best-effort reader (bench/
        # NOTES.md); a reliable input shows every frame of the demo.
        '-p', 'reliability:=reliable',
        # Off by default (they add a third to the frame time, docs/models.md): shown here.
        '-p', 'head_pose:=true', '-p', 'landmarks:=true',
    ], out / 'facesense_node.log', env)
    source = None
    try:
        up = _spin_until(executor, lambda: (
            recorder.count_publishers(f'{NAMESPACE}/faces/detections') > 0
            and recorder.count_publishers(f'{NAMESPACE}/faces/image') > 0), STARTUP_TIMEOUT)
        if not up or node.poll() is not None:
            raise RuntimeError(f'facesense_node did not start; see {out / "facesense_node.log"}')
        started = time.monotonic()
        source, source_log = _start('image_source', [
            '-r', f'__ns:={NAMESPACE}', '-p', f'source:={out / "input"}',
            '-p', f'fps:={args.fps}', '-p', f'max_frames:={args.frames}',
            '-p', 'frame_id:=demo_camera', '-p', 'reliability:=reliable',
            # Frames sent before the node's subscription is matched would be lost.
            '-p', 'wait_for_subscribers:=1',
        ], out / 'image_source.log', env)
        _spin_until(executor, lambda: source.poll() is not None, args.frames / args.fps + 60.0)
        sent_done = time.monotonic()
        _spin_until(executor, lambda: len(recorder.detections) >= args.frames, DRAIN_TIMEOUT)
        elapsed = time.monotonic() - started
    finally:
        node_rc = stop(node)
        if source is not None:
            stop(source)
        executor.shutdown()
        recorder.destroy_node()
        rclpy.try_shutdown()
    return summarize(out, recorder, detections_to_records, elapsed, sent_done - started,
                     node_rc, args)


def summarize(out, recorder, detections_to_records, elapsed, sending, node_rc, args):
    """Write detections.jsonl and the annotated PNGs, print the summary; return exit code."""
    ids, genders, emotions, ages, latencies = set(), Counter(), Counter(), [], []
    faces_total = 0
    # Faces of at least GEOMETRY_MIN_PX: how many, and how many had head pose and landmarks.
    large, with_geometry, looking = 0, 0, Counter()
    with open(out / 'detections.jsonl', 'w') as jsonl:
        for index, (arrival, msg) in enumerate(recorder.detections):
            stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            latencies.append(arrival - stamp)
            records = detections_to_records(msg)
            faces_total += len(records)
            for record in records:
                ids.add(record.id)
                if record.gender_label:
                    genders[record.gender_label] += 1
                if record.emotion_label:
                    emotions[record.emotion_label] += 1
                if record.age is not None:
                    ages.append(record.age)
                x0, y0, x1, y1 = record.box
                if min(x1 - x0, y1 - y0) >= GEOMETRY_MIN_PX:
                    large += 1
                    with_geometry += record.head_pose is not None and record.landmarks is not None
                if record.looking is not None:
                    looking['looking' if record.looking else 'not looking'] += 1
            jsonl.write(json.dumps({
                'frame': index, 'stamp': stamp, 'frame_id': msg.header.frame_id,
                'faces': [record.to_dict() for record in records]}) + '\n')
            key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
            if key in recorder.images:
                cv2.imwrite(str(out / 'frames' / f'{index:04d}.png'), recorder.images[key])
    processed = len(recorder.detections)
    lat = np.array(latencies) * 1000.0 if latencies else np.zeros(1)
    print('facesense_ros demo')
    print(f'  frames sent        {args.frames} at {args.fps:g} fps ({sending:.1f} s)')
    # The rate between the first and the last answer: image_source's start-up is not the node's.
    span = recorder.detections[-1][0] - recorder.detections[0][0] if processed > 1 else 0.0
    rate = f'{(processed - 1) / span:.1f} fps' if span > 0 else 'rate n/a'
    print(f'  frames processed   {processed} ({rate}; {elapsed:.1f} s from start to last answer)')
    print(f'  annotated frames   {len(list((out / "frames").glob("*.png")))} in {out}/frames')
    print(f'  faces              {faces_total} ({faces_total / max(processed, 1):.2f} per frame),'
          f' {len(ids)} track ids: {sorted(ids, key=lambda s: int(s) if s.isdigit() else 0)}')
    print(f'  gender             {dict(genders)}')
    print(f'  emotion            {dict(emotions)}')
    if ages:
        print(f'  age                median {np.median(ages):.1f}, '
              f'range {min(ages):.1f}..{max(ages):.1f} years')
    print(f'  head pose+landmarks {with_geometry} of the {large} faces of >= {GEOMETRY_MIN_PX} '
          f'px; attention {dict(looking)}')
    print(f'  latency stamp->det p50 {np.percentile(lat, 50):.0f} ms, '
          f'p95 {np.percentile(lat, 95):.0f} ms')
    print(f'  node exit code     {node_rc}')
    print(f'  output             {out}/detections.jsonl, {out}/frames/*.png')
    ok = processed > 0 and faces_total > 0 and node_rc == 0 and with_geometry == large
    if not ok:
        print('demo FAILED: no faces were detected, a face of >= 62 px lacked head pose or '
              'landmarks, or the node did not exit cleanly', file=sys.stderr)
    return 0 if ok else 1


def main():
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('--output', default=str(ROOT / 'demo_output'))
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--faces', type=int, default=3)
    parser.add_argument('--fps', type=float, default=DEFAULT_FPS)
    sys.exit(run(parser.parse_args()))


if __name__ == '__main__':
    main()
