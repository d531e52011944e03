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
`make bench`: how fast facesense_ros is next to the models' own cost and the seed's algorithm.

In ONE run, for 640x480 frames with 0, 1, 4 and 10 real faces (64..200 px, composited from
scikit-image's bundled photos), side by side:
  model floor   the compiled models' own inference time for that frame's work (one detector
                inference + one batched inference per attribute model), OpenVINO alone;
  seed          the seed's algorithm (host resize, one synchronous inference per model per face)
                on the current OpenVINO API (test/reference.py);
  pipeline      FacePipeline.process in-process, frames back to back;
  five models   the floor and the pipeline again with head pose and landmarks on too, and what
                the two add to the three-model pipeline (their parameters' default is off);
  depth         what faces in 3D cost a frame of 4 faces (depth.FaceLocator.locate on a
                rendered RGB-D scene, full and half depth resolution; then the positions set
                on the faces and faces/detections_3d built), beside the 4-face pipeline, and
                decoding one depth frame (depth/image_raw's callback);
  node          facesense_node in its own process fed by image_source at 30 fps and at max rate:
                processed fps, dropped frames, stamp -> Detection2DArray latency (p50/p95/p99),
                CPU % and peak RSS of the node process.
Prints a table and writes bench_output/<distro>/bench.json. Ratios only mean something within
one run: the machine is shared and noisy.
"""

import argparse
import json
import os
from pathlib import Path
import platform
import statistics
import sys
import time

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# test/ for the seed's algorithm (reference.py), dev/ for starting and stopping our processes.
sys.path[:0] = [str(ROOT / 'test'), str(ROOT / 'dev')]
import processes  # noqa: E402, I202 (found through the path above)

# One folder per distro (dev/setup.bash exports ROS_DISTRO), so that a Jazzy run does not
# overwrite the Kilted figures of the same session.
OUTPUT = ROOT / 'bench_output' / os.environ.get('ROS_DISTRO', 'unknown')
FACE_COUNTS = (0, 1, 4, 10)
FRAME_SIZE = (640, 480)
# Realistic face heights for a webcam at 0.5 to 3 m.
FACE_PX = (64, 200)
CLK_TCK = os.sysconf('SC_CLK_TCK')
# Fast DDS's default 512 KB shared-memory segment is smaller than a 640x480 frame: the frames
# then travel as UDP fragments and best-effort readers lose about half of them (NOTES.md). The
# node is measured with a publisher running the profile users get (config/fastdds_shm.xml,
# here with UDP bound to loopback, written to this file), and without it.
SHM_PROFILE = OUTPUT / 'fastdds_shm_loopback.xml'
# (faces, fps in, publisher transport, node input reliability) of the node measurements. The
# last two are the launch files' reliable input: with a default Fast DDS camera driver (as
# when the profile is not in effect) and with the shared-memory profile (camera_shm:=true).
NODE_RUNS = ((1, 30.0, 'shm', 'best_effort'), (1, 200.0, 'shm', 'best_effort'),
             (4, 30.0, 'shm', 'best_effort'), (4, 200.0, 'shm', 'best_effort'),
             (4, 30.0, 'default', 'best_effort'), (4, 30.0, 'default', 'reliable'),
             (4, 30.0, 'shm', 'reliable'))
# Ten times the node's usual p95 at 30 fps: a result this late was held up, not slow.
LATE_MS = 100.0
# Every face gets age, gender and emotion, as in the seed: the same work in every column. The
# three-model rows have head pose and landmarks off whatever their defaults.
SAME_WORK = {'min_face_size_age_gender': 0, 'min_face_size_emotions': 0, 'head_pose': False,
             'landmarks': False}
# The five-model rows: every face gets every attribute too.
FIVE_MODELS = dict(SAME_WORK, head_pose=True, landmarks=True, min_face_size_head_pose=0,
                   min_face_size_landmarks=0)


def cpu_model():
    """Return the CPU model name as the kernel reports it."""
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor() or 'unknown'


def bench_depth(repeats):
    """Return {name: median ms} of locating 4 faces in depth, and of decoding a depth frame."""
    from facesense_ros import depth, depth_scenes
    from facesense_ros.face import Face
    fns = {}
    for scale in (1.0, 0.5):
        # Four people at 1.2 to 4.5 m (77 to 21 px wide faces), with landmarks and track ids.
        scene = depth_scenes.render([1.2, 2.0, 3.0, 4.5], seed=0, depth_scale=scale)
        faces = [Face(*f.box, score=0.9, track_id=i + 1, landmarks=f.landmarks)
                 for i, f in enumerate(scene.faces)]
        width, height = scene.depth_size
        decode = (lambda s=scene, w=width, h=height: depth.decode_depth(
            s.depth_data, s.encoding, w, h, s.step, frame_id='cam', valid_range=(0.2, 10.0)))
        locator = depth.FaceLocator()
        frame = decode()
        clock = iter(range(10 ** 9))
        fns[f'depth_locate_4_faces_x{scale:g}_ms'] = (
            lambda loc=locator, fr=frame, fs=faces, sc=scene: loc.locate(
                fs, sc.intrinsics, fr, None, 'cam', FRAME_SIZE, next(clock) / 30.0))
        fns[f'depth_decode_{width}x{height}_ms'] = decode
    # What the node adds on top: the positions set on the faces (validated again) and the
    # faces/detections_3d message built.
    from facesense_ros.depth_conversions import faces_to_detections_3d
    from std_msgs.msg import Header
    positions, _ = locator.locate(faces, scene.intrinsics, frame, None, 'cam', FRAME_SIZE, 1e6)

    def message(fs=faces, ps=positions, sc=scene):
        located = [f.with_attributes(position=p) for f, p in zip(fs, ps)]
        return faces_to_detections_3d(located, Header(frame_id='cam'), sc.intrinsics)
    fns['depth_attach_and_message_4_faces_ms'] = message
    return interleaved_median_ms(fns, repeats)


def interleaved_median_ms(fns, repeats, warmup=3):
    """
    Median wall time in ms of each of ``fns`` ({name: fn}), called in turn, round after round.

    Other jobs on a shared machine slow everything down for seconds at a time: in turn, they
    slow every variant alike, so that the ratios between them hold.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: statistics.median(t) for name, t in times.items()}


def paced_median_ms(fn, fps, repeats, warmup=3):
    """
    Median wall time of fn() in ms when called ``fps`` times a second, as a camera would.

    Between frames the inference threads go idle and caches cool down: the first call after
    a pause is slower than calls back to back (bench/NOTES.md).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        times.append(took * 1000.0)
        time.sleep(max(0.0, 1.0 / fps - took))
    return statistics.median(times)


class ProcessStats:
    """CPU time and peak RSS of another process, read from /proc."""

    def __init__(self, pid):
        self.pid = pid
        self._start = self._cpu_seconds()
        self._t0 = time.monotonic()

    def _cpu_seconds(self):
        fields = Path(f'/proc/{self.pid}/stat').read_text().rsplit(')', 1)[1].split()
        # utime and stime are fields 14 and 15 of stat; after the ')' split they are 11 and 12.
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def reset(self):
        """Start a new CPU measurement window."""
        self._start = self._cpu_seconds()
        self._t0 = time.monotonic()

    def cpu_percent(self):
        """CPU % (100 = one core) since the last reset."""
        return 100.0 * (self._cpu_seconds() - self._start) / (time.monotonic() - self._t0)

    def peak_rss_mb(self):
        """Peak resident set size in MB (VmHWM)."""
        for line in Path(f'/proc/{self.pid}/status').read_text().splitlines():
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.0
        return float('nan')


class ModelFloor:
    """
    The compiled models' own cost, with no pre- or post-processing around them.

    Each model is compiled once per batch size with a static shape (the cheapest form) and fed
    a ready float tensor, so what is timed is OpenVINO's inference alone.
    """

    def __init__(self, paths, hint='LATENCY'):
        import openvino as ov
        self.core = ov.Core()
        self.config = {'PERFORMANCE_HINT': hint}
        self.detector = self._compile(paths[0], None)
        self.attribute_paths = paths[1:]
        self.attribute_models = {}

    def _compile(self, path, batch):
        model = self.core.read_model(str(path))
        if batch:
            shape = list(model.inputs[0].get_partial_shape().to_shape())
            model.reshape([batch] + shape[1:])
        compiled = self.core.compile_model(model, 'CPU', self.config)
        request = compiled.create_infer_request()
        shape = list(compiled.inputs[0].get_shape())
        tensor = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
        return request, tensor

    def _attributes(self, batch):
        if batch not in self.attribute_models:
            self.attribute_models[batch] = [self._compile(p, batch)
                                            for p in self.attribute_paths]
        return self.attribute_models[batch]

    def work(self, n_faces):
        """Return a callable: one detector inference + the batched attribute inferences."""
        runs = [self.detector] + (self._attributes(n_faces) if n_faces else [])

        def run():
            for request, tensor in runs:
                request.infer([tensor])
        return run


def bench_frames():
    """640x480 frames with 0, 1, 4, 10 real faces: {n: (frame, boxes)}."""
    from facesense_ros.sample_frames import compose_frame
    frames = {}
    for n in FACE_COUNTS:
        for seed in range(50):
            try:
                frames[n] = compose_frame(n, FRAME_SIZE, FACE_PX, seed=seed)
                break
            except ValueError:
                continue  # this seed's random sizes do not fit: try the next one
        else:
            raise RuntimeError(f'cannot compose a frame with {n} faces of {FACE_PX} px')
    return frames


class NodeBench:
    """facesense_node in its own process, fed by image_source, measured from this process."""

    def __init__(self, model_dir, log_dir):
        # image_source's environment per publisher transport (see NODE_RUNS).
        profile = processes.loopback_shm_profile(SHM_PROFILE)
        self.source_env = {'shm': processes.profile_env(profile), 'default': {}}
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray
        self.rclpy = rclpy
        self.log_dir = log_dir
        rclpy.init()
        self.listener = Node('bench_listener', namespace='/bench')
        self.arrivals = []
        self.listener.create_subscription(
            Detection2DArray, 'faces/detections', self._on_detections,
            QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        # The node's own counters tell frames lost on the way in from frames it skipped.
        self.node_totals = None
        # Mean ms per stage of the node's own diagnostics windows, while frames came in.
        self.stage_windows = []
        self.listener.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics,
                                          QoSProfile(depth=10,
                                                     reliability=ReliabilityPolicy.RELIABLE))
        # The frames alone, in another namespace (the node does not see them): ROS's own
        # stamp -> Python callback time for a frame, the part of the latency before the node.
        self.frame_arrivals = []
        self.listener.create_subscription(
            Image, '/bench_transport/image_raw',
            lambda msg: self.frame_arrivals.append(time.time() - msg.header.stamp.sec
                                                   - msg.header.stamp.nanosec * 1e-9),
            QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.listener)
        self.log = open(log_dir / 'bench_node.log', 'w')
        self.model_dir = model_dir
        self.node = None
        self.reliability = None
        self.start('best_effort')

    def start(self, reliability, **params):
        """(Re)start facesense_node with this input reliability (read-only in the node)."""
        if self.node is not None:
            processes.stop(self.node)
            self._spin_until(
                lambda: self.listener.count_publishers('/bench/faces/detections') == 0, 10.0)
        self.reliability = reliability
        self.node = processes.start('facesense_node', [
            '-r', '__ns:=/bench', '--params-file', str(ROOT / 'config' / 'facesense.yaml'),
            '-p', f'model_dir:={self.model_dir}', '-p', f'reliability:={reliability}',
            *[a for k, v in dict(SAME_WORK, **params).items()
              for a in ('-p', f'{k}:={str(v).lower() if isinstance(v, bool) else v}')]],
            self.log)
        self.stats = ProcessStats(self.node.pid)
        if not self._spin_until(
                lambda: self.listener.count_publishers('/bench/faces/detections') > 0, 60.0):
            raise RuntimeError(f'facesense_node did not start: see {self.log.name}')

    def _on_detections(self, msg):
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        self.arrivals.append((time.time() - stamp, len(msg.detections), stamp))

    def _on_diagnostics(self, msg):
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if 'processed frames' in values:
                self.node_totals = (int(values['processed frames']),
                                    int(values['dropped frames']), time.monotonic())
                if float(values.get('processed fps', '0')) > 0:
                    self.stage_windows.append({k[len('latency '):-len(' ms')]: float(v)
                                               for k, v in values.items()
                                               if k.startswith('latency ')})

    def _fresh_totals(self, after, timeout=5.0):
        """Return the node's (processed, dropped) totals, from diagnostics sent after ``after``."""
        self._spin_until(lambda: self.node_totals is not None and self.node_totals[2] > after,
                         timeout)
        return self.node_totals[:2] if self.node_totals else (0, 0)

    def _spin_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)
        return predicate()

    def idle_cpu(self, seconds):
        """CPU % of the node while no image arrives."""
        self.stats.reset()
        self._spin_until(lambda: False, seconds)
        return self.stats.cpu_percent()

    def transport_only(self, image_path, fps, frames):
        """Frames from image_source (shm publisher) to a Python subscriber, no node: figures."""
        self.frame_arrivals = []
        source = processes.start('image_source', [
            '-r', '__ns:=/bench_transport', '-p', f'source:={image_path}', '-p', f'fps:={fps}',
            '-p', f'max_frames:={frames}', '-p', 'wait_for_subscribers:=1'], self.log,
            self.source_env['shm'])
        self._spin_until(lambda: source.poll() is not None, frames / fps * 4 + 30.0)
        self._spin_until(lambda: len(self.frame_arrivals) >= frames, 2.0)
        processes.stop(source)
        latencies = np.array(self.frame_arrivals) * 1000.0
        return {'fps_in': fps, 'frames_sent': frames, 'frames_received': len(latencies),
                'latency_ms_p50': float(np.percentile(latencies, 50)) if len(latencies) else None,
                'latency_ms_p95': float(np.percentile(latencies, 95)) if len(latencies) else None}

    def run(self, image_path, fps, seconds, transport):
        """
        Feed ``image_path`` at ``fps`` for ``seconds``; return the node's figures.

        ``transport`` 'shm' gives image_source (the publisher) a Fast DDS shared-memory segment
        that holds whole frames (config/fastdds_shm.xml, UDP on loopback); 'default' leaves
        Fast DDS as it is.
        """
        frames = int(fps * seconds)
        self.arrivals = []
        before = self._fresh_totals(time.monotonic())
        self.stage_windows = []
        source = processes.start('image_source', [
            '-r', '__ns:=/bench', '-p', f'source:={image_path}', '-p', f'fps:={float(fps)}',
            '-p', f'max_frames:={frames}', '-p', 'frame_id:=bench', '-p', 'loop:=true',
            '-p', 'wait_for_subscribers:=1'], self.log, self.source_env[transport])
        # CPU is measured over the sending window only (the start-up of image_source excluded).
        self._spin_until(lambda: len(self.arrivals) > 0, 30.0)
        self.stats.reset()
        started = time.monotonic()
        self._spin_until(lambda: source.poll() is not None, seconds * 4 + 30.0)
        sending = time.monotonic() - started
        cpu = self.stats.cpu_percent()
        # Results of the last frames may still be on their way.
        self._spin_until(lambda: len(self.arrivals) >= frames, 3.0)
        processes.stop(source)
        after = self._fresh_totals(time.monotonic())
        node_processed, node_skipped = (after[0] - before[0], after[1] - before[1])
        processed = len(self.arrivals)
        latencies = np.array([a[0] for a in self.arrivals]) * 1000.0
        # Where results are missing: seconds into the run of each gap between processed frames.
        stamps = np.sort([a[2] for a in self.arrivals])
        gaps = np.flatnonzero(np.diff(stamps) > 1.5 / fps)
        missing_at = [round(float(stamps[i] - stamps[0]), 2) for i in gaps]
        # Where results came late (> LATE_MS): (seconds into the run, ms), e.g. frames a reliable
        # reader got repaired because they were sent while it was still matching the writer.
        late_at = [(round(float(a[2] - stamps[0]), 2), round(a[0] * 1000.0))
                   for a in self.arrivals if a[0] * 1000.0 > LATE_MS]
        # Frames sent from the first to the last answered one (image_source's timer keeps a
        # fixed period): the steady state, without the start-up race in which a best-effort
        # reader drops a few frames of a writer it has not matched yet.
        span = int(round((stamps[-1] - stamps[0]) * fps)) + 1 if processed else frames
        return {
            'fps_in': fps, 'transport': transport, 'reliability': self.reliability,
            'frames_sent': frames,
            'frames_processed': processed,
            'processed_fps': processed / max(sending, 1e-9),
            'dropped_pct': 100.0 * max(frames - processed, 0) / frames,
            'steady_dropped_pct': 100.0 * max(span - processed, 0) / span,
            'missing_before_first_or_after_last': max(frames - span, 0),
            # received by the node = processed + skipped for a newer frame; the rest never
            # reached it (lost by the middleware on the way in).
            'node_skipped_pct': 100.0 * node_skipped / frames,
            'missing_at_s': missing_at if fps <= 60 else None,
            'late_at_s_ms': late_at,
            'lost_in_transport_pct': 100.0 * max(frames - node_processed - node_skipped, 0)
            / frames,
            'latency_ms_p50': float(np.percentile(latencies, 50)) if processed else None,
            'latency_ms_p95': float(np.percentile(latencies, 95)) if processed else None,
            'latency_ms_p99': float(np.percentile(latencies, 99)) if processed else None,
            'cpu_pct': cpu, 'peak_rss_mb': self.stats.peak_rss_mb(),
            'node_stage_ms': {k: statistics.mean(w[k] for w in self.stage_windows)
                              for k in (self.stage_windows[0] if self.stage_windows else {})},
        }

    def close(self):
        """Stop the node; return its exit code."""
        code = processes.stop(self.node)
        self.executor.shutdown()
        self.listener.destroy_node()
        self.rclpy.try_shutdown()
        self.log.close()
        return code


# REP-155 cost (issue 14): 4 faces at 30 fps, shm publisher, reliable input, every model on (so
# that every per-face topic has something to send). 'on+consumer' subscribes to every face's
# six topics and /tf, as libhri does. Interleaved and repeated: only ratios within one run mean
# something on a shared machine.
HRI_RUNS = ('off', 'on', 'on+consumer') * 2


class HriConsumer:
    """Follows /humans/faces/tracked and subscribes to each listed face's topics (libhri-like)."""

    def __init__(self, listener):
        from hri_msgs.msg import IdsList
        from facesense_ros.hri_publishers import HRI_QOS, SUBTOPICS, TF_QOS
        from tf2_msgs.msg import TFMessage
        self.listener, self.subtopics, self.qos = listener, SUBTOPICS, HRI_QOS
        self.active = False
        self.face_subscriptions = {}
        self.received = 0
        listener.create_subscription(IdsList, '/humans/faces/tracked', self._on_tracked,
                                     HRI_QOS)
        listener.create_subscription(TFMessage, '/tf', self._count, TF_QOS)

    def _count(self, msg):
        self.received += 1

    def _on_tracked(self, msg):
        if not self.active:
            return
        for face_id in msg.ids:
            if face_id not in self.face_subscriptions:
                self.face_subscriptions[face_id] = [
                    self.listener.create_subscription(t, f'/humans/faces/{face_id}/{name}',
                                                      self._count, self.qos)
                    for name, t in self.subtopics.items()]

    def clear(self):
        """Unsubscribe every face (the next run's node has other ids)."""
        for subs in self.face_subscriptions.values():
            for sub in subs:
                self.listener.destroy_subscription(sub)
        self.face_subscriptions = {}


def bench_hri(node, image_path, seconds):
    """Node latency with hri false / true / true and a consumer; print and return the figures."""
    consumer = HriConsumer(node.listener)
    runs = {mode: [] for mode in HRI_RUNS}
    for mode in HRI_RUNS:
        node.start('reliable', hri=mode != 'off', **FIVE_MODELS)
        consumer.active = mode == 'on+consumer'
        consumer.received = 0
        result = node.run(image_path, 30.0, seconds, 'shm')
        result['hri_messages_received'] = consumer.received
        runs[mode].append(result)
        consumer.active = False
        consumer.clear()
    summary = {}
    for mode, results in runs.items():
        summary[mode] = {
            'latency_ms_p50': statistics.median(r['latency_ms_p50'] for r in results),
            'latency_ms_p95': statistics.median(r['latency_ms_p95'] for r in results),
            'cpu_pct': statistics.median(r['cpu_pct'] for r in results),
            'processed_fps': statistics.median(r['processed_fps'] for r in results),
            'hri_messages_per_s': statistics.median(r['hri_messages_received'] for r in results)
            / seconds}
    base = summary['off']['latency_ms_p50']
    print()
    print('REP-155 (hri), node, 4 faces, 30 fps, shm, reliable, five models: '
          'p50 ms  p95 ms  CPU %  processed fps  hri msgs/s received  p50 / off')
    for mode, r in summary.items():
        r['p50_over_off'] = r['latency_ms_p50'] / base
        print(f'{mode:>68}  {r["latency_ms_p50"]:>6.1f}  {r["latency_ms_p95"]:>6.1f}  '
              f'{r["cpu_pct"]:>5.0f}  {r["processed_fps"]:>13.1f}  '
              f'{r["hri_messages_per_s"]:>19.0f}  {r["p50_over_off"]:>9.2f}')
    result = {'summary': summary, 'runs': runs}
    (OUTPUT / 'bench_hri.json').write_text(json.dumps(result, indent=2))
    return summary


def _fmt(value, digits=1):
    return '-' if value is None else f'{value:.{digits}f}'


def main():
    """Measure floor, seed, pipeline and node; print the table, write bench.json."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('--repeats', type=int, default=60, help='timed runs per measurement')
    parser.add_argument('--node-seconds', type=float, default=8.0,
                        help='seconds of input per node measurement')
    parser.add_argument('--no-node', action='store_true', help='skip the node measurements')
    parser.add_argument('--only-hri', action='store_true',
                        help='only the REP-155 cost (node, hri false vs true)')
    parser.add_argument('--only-depth', action='store_true',
                        help='only the depth row (no models, no node)')
    args = parser.parse_args()
    if args.only_hri:
        only_hri(args)
        return
    if args.only_depth:
        for name, ms in bench_depth(max(args.repeats, 300)).items():
            print(f'{name}: {ms:.3f}')
        return

    from facesense_ros.config import PipelineConfig
    from facesense_ros.pipeline import FacePipeline
    import reference
    from reference import ReferencePipeline
    import openvino

    model_dir = os.environ.get('FACESENSE_MODEL_DIR', '')
    if not model_dir:
        sys.exit('bench: FACESENSE_MODEL_DIR is not set (make bench sets it)')
    OUTPUT.mkdir(parents=True, exist_ok=True)
    config = PipelineConfig(model_dir=model_dir, **SAME_WORK)
    pipeline = FacePipeline(config)
    five = FacePipeline(PipelineConfig(model_dir=model_dir, **FIVE_MODELS))
    # The files the pipeline loaded (its precision choice), for the floor and the seed too.
    paths = [m.path for m in pipeline.models.values()]
    floor = ModelFloor(paths, config.performance_hint)
    five_floor = ModelFloor([m.path for m in five.models.values()], config.performance_hint)
    # The seed's algorithm on the very files the pipeline loaded: only the algorithm differs.
    # ReferencePipeline reads its attribute files from these module names when it is built.
    # (Absolute paths: model_dir / an absolute path is that path.)
    reference.AGE_GENDER_FILE, reference.EMOTIONS_FILE = str(paths[1]), str(paths[2])
    seed = ReferencePipeline(model_dir, config.detector, config.confidence_threshold,
                             detector_file=str(paths[0]))
    frames = bench_frames()

    rows = []
    for n, (frame, boxes) in frames.items():
        found = len(pipeline.process(frame))
        row = {'faces': n, 'faces_found': found}
        row.update(interleaved_median_ms({
            'floor_ms': floor.work(n),
            'seed_ms': lambda: seed.process(frame),
            'pipeline_ms': lambda: pipeline.process(frame)}, args.repeats))
        # Apart from the three-model set: interleaved with it, the five-model runs slowed the
        # three-model pipeline by 1.2-1.7 ms at 4 faces (its figures are compared with the
        # runs before head pose and landmarks existed; bench/NOTES.md section 15).
        row.update(interleaved_median_ms({
            'five_floor_ms': five_floor.work(n),
            'five_pipeline_ms': lambda: five.process(frame)}, args.repeats))
        row['five_over_floor'] = row['five_pipeline_ms'] / row['five_floor_ms']
        # What head pose and landmarks add to the three-model pipeline.
        row['new_models_ms'] = row['five_pipeline_ms'] - row['pipeline_ms']
        row['new_models_pct'] = 100.0 * row['new_models_ms'] / row['pipeline_ms']
        row['pipeline_30fps_ms'] = paced_median_ms(lambda: pipeline.process(frame), 30.0,
                                                   args.repeats)
        row['pipeline_fps'] = 1000.0 / row['pipeline_ms']
        row['speedup_vs_seed'] = row['seed_ms'] / row['pipeline_ms']
        row['pipeline_over_floor'] = row['pipeline_ms'] / row['floor_ms']
        rows.append(row)
        cv2.imwrite(str(OUTPUT / f'frame_{n}_faces.png'), frame)
    depth_row = bench_depth(max(args.repeats, 300))

    node_results = {}
    idle = None
    if not args.no_node:
        node = NodeBench(model_dir, OUTPUT)
        try:
            idle = node.idle_cpu(5.0)
            transport_only = node.transport_only(OUTPUT / 'frame_4_faces.png', 30.0, 90)
            for n, fps, transport, reliability in NODE_RUNS:
                if reliability != node.reliability:
                    node.start(reliability)
                node_results[(n, fps, transport, reliability)] = node.run(
                    OUTPUT / f'frame_{n}_faces.png', fps, args.node_seconds, transport)
            bench_hri(node, OUTPUT / 'frame_4_faces.png', args.node_seconds)
        finally:
            node_rc = node.close()
    report(rows, node_results, idle, openvino.__version__, args, locals().get('node_rc'),
           locals().get('transport_only'), depth_row)


def only_hri(args):
    """Run bench_hri alone (its frame written first)."""
    model_dir = os.environ.get('FACESENSE_MODEL_DIR', '')
    if not model_dir:
        sys.exit('bench: FACESENSE_MODEL_DIR is not set (make bench sets it)')
    OUTPUT.mkdir(parents=True, exist_ok=True)
    frame, _ = bench_frames()[4]
    cv2.imwrite(str(OUTPUT / 'frame_4_faces.png'), frame)
    node = NodeBench(model_dir, OUTPUT)
    try:
        bench_hri(node, OUTPUT / 'frame_4_faces.png', args.node_seconds)
    finally:
        print(f'node exit code: {node.close()}')


def report(rows, node_results, idle, ov_version, args, node_rc, transport_only=None,
           depth_row=None):
    """Print the table and write bench_output/bench.json."""
    print(f'facesense_ros bench: {cpu_model()}, {os.cpu_count()} cores, OpenVINO {ov_version}, '
          f'median of {args.repeats} runs')
    print()
    print('faces  found  floor ms  seed ms  pipeline ms  pipeline fps  x seed  / floor  '
          'pipeline ms at 30 fps')
    for r in rows:
        print(f'{r["faces"]:>5}  {r["faces_found"]:>5}  {r["floor_ms"]:>8.2f}  '
              f'{r["seed_ms"]:>7.2f}  {r["pipeline_ms"]:>11.2f}  {r["pipeline_fps"]:>12.1f}  '
              f'{r["speedup_vs_seed"]:>6.2f}  {r["pipeline_over_floor"]:>7.2f}  '
              f'{r["pipeline_30fps_ms"]:>21.2f}')
    print()
    print('five models (+ head pose, landmarks): faces  floor ms  pipeline ms  / floor  '
          'added to the three-model pipeline')
    for r in rows:
        print(f'{r["faces"]:>42}  {r["five_floor_ms"]:>8.2f}  {r["five_pipeline_ms"]:>11.2f}  '
              f'{r["five_over_floor"]:>7.2f}  {r["new_models_ms"]:>+6.2f} ms '
              f'({r["new_models_pct"]:+.0f} %)')
    if depth_row:
        four = next(r['pipeline_ms'] for r in rows if r['faces'] == 4)
        print()
        print('depth (faces in 3D), 4 faces: ' + '  '.join(
            f'{name[:-3]} {ms:.3f} ms' for name, ms in depth_row.items())
            + f'  (4-face pipeline {four:.2f} ms)')
    if node_results:
        pipeline_ms = {r['faces']: r['pipeline_ms'] for r in rows}
        print()
        print('node: faces  fps in  publisher  input QoS    processed fps  dropped %  steady %  '
              '(skipped  lost)  '
              'p50 ms  p95 ms  p99 ms  CPU %  peak RSS MB  p50/pipeline  p95/pipeline')
        for (n, fps, transport, reliability), r in node_results.items():
            ratio50 = r['latency_ms_p50'] / pipeline_ms[n] if r['latency_ms_p50'] else None
            ratio95 = r['latency_ms_p95'] / pipeline_ms[n] if r['latency_ms_p95'] else None
            r['p50_over_pipeline'], r['p95_over_pipeline'] = ratio50, ratio95
            print(f'      {n:>5}  {fps:>6.0f}  {transport:>9}  {reliability:<11}  '
                  f'{r["processed_fps"]:>13.1f}  '
                  f'{r["dropped_pct"]:>9.1f}  {r["steady_dropped_pct"]:>8.1f}  '
                  f'({r["node_skipped_pct"]:>7.1f}  '
                  f'{r["lost_in_transport_pct"]:>4.1f})  {_fmt(r["latency_ms_p50"]):>6}  '
                  f'{_fmt(r["latency_ms_p95"]):>6}  {_fmt(r["latency_ms_p99"]):>6}  '
                  f'{r["cpu_pct"]:>5.0f}  {r["peak_rss_mb"]:>11.0f}  {_fmt(ratio50, 2):>12}  '
                  f'{_fmt(ratio95, 2):>12}')
        print(f'node idle CPU: {idle:.2f} %   node exit code: {node_rc}')
        if transport_only:
            print(f'frames alone, image_source -> Python subscriber, no node: '
                  f'{transport_only["frames_received"]}/{transport_only["frames_sent"]} '
                  f'received, stamp -> callback p50 {_fmt(transport_only["latency_ms_p50"], 2)}'
                  f' ms, p95 {_fmt(transport_only["latency_ms_p95"], 2)} ms')
        print('node stages (its /diagnostics, mean ms per frame):')
        for (n, fps, transport, reliability), r in node_results.items():
            stages = '  '.join(f'{k} {v:.2f}' for k, v in r['node_stage_ms'].items())
            print(f'      {n} faces, {fps:.0f} fps, {transport}, {reliability}: {stages}')
    result = {
        'machine': {'cpu': cpu_model(), 'cores': os.cpu_count(), 'openvino': ov_version,
                    'python': platform.python_version()},
        'repeats': args.repeats, 'pipeline': rows,
        'node': [dict(r, faces=key[0]) for key, r in node_results.items()],
        'node_idle_cpu_pct': idle, 'node_exit_code': node_rc,
        'frames_alone': transport_only, 'depth': depth_row,
    }
    (OUTPUT / 'bench.json').write_text(json.dumps(result, indent=2))
    print(f'\nwritten {OUTPUT / "bench.json"}')


if __name__ == '__main__':
    main()
