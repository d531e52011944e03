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
What identity costs: time to a person id, per-frame cost, and the node's p50 with it on.

Four real people (../shared/data/identities) at 130 px in a 640x480 frame, 30 fps, the node's
default models. Core: frames until every face has a person id, and the median per-frame time
of FacePerception.process once identified, identity on vs off (interleaved). Node: detections
latency p50 with identity off and on (a fresh gallery each run), interleaved, --pairs times.

    ./dev/run.sh python bench/identity_bench.py [--no-node] [--node-seconds 8] [--pairs 3]
"""

import argparse
import json
import math
import os
from pathlib import Path
import statistics
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'bench'))
sys.path.insert(0, str(ROOT))
import cv2  # noqa: E402, I100 (after the path above, like the package)
from facesense_ros.config import PipelineConfig, TrackingConfig  # noqa: E402, I100
from facesense_ros.gallery import Gallery  # noqa: E402
from facesense_ros.perception import FacePerception  # noqa: E402
from facesense_ros.pipeline import FacePipeline  # noqa: E402
from facesense_ros.sample_frames import compose_frame, cut_face, paste_face  # noqa: E402

IDENTITIES = ROOT.parent / 'shared' / 'data' / 'identities'
PHOTOS = ('obama/1.jpg', 'biden/2.jpg', 'kit_harington/1.jpg', 'rose_leslie/1.jpg')
CENTERS = ((130, 140), (480, 140), (160, 360), (500, 360))
FACE_PX = 130
FPS = 30.0
# Interleaved off/on node runs (--pairs): a shared machine's load moves single runs by 2-3x.
PAIRS = 3
OUTPUT = ROOT / 'bench_output' / os.environ.get('ROS_DISTRO', 'unknown')


def four_faces(pipeline):
    """Return a 640x480 BGR frame with the four people."""
    frame, _ = compose_frame(0, (640, 480))
    for relative, center in zip(PHOTOS, CENTERS):
        photo = cv2.imread(str(IDENTITIES / relative))
        face = max(pipeline.detect(photo), key=lambda f: f.width)
        crop, box = cut_face(photo, face.box)
        paste_face(frame, crop, box, FACE_PX, center)
    return frame


def core(model_dir, repeats):
    """Frames to a person id, and the per-frame cost once identified, on vs off."""
    pipeline = FacePipeline(PipelineConfig(model_dir=model_dir, identity=True))
    frame = four_faces(pipeline)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        gallery = Gallery(str(Path(tmp) / 'faces.db'), create=True)
        on = FacePerception(pipeline, TrackingConfig(), gallery=gallery)
        off = FacePerception(pipeline, TrackingConfig())
        frames_to_id = None
        for i in range(30):
            faces = on.process(frame, i / FPS)
            if frames_to_id is None and len(faces) == 4 and all(f.identity for f in faces):
                frames_to_id = i + 1
        results['frames_to_person_id'] = frames_to_id
        results['seconds_to_person_id_at_30fps'] = frames_to_id / FPS if frames_to_id else None
        times = {'off': [], 'on': []}
        identity_ms = []
        stamp = 30
        for _ in range(repeats):
            for name, perception in (('off', off), ('on', on)):
                start = time.perf_counter()
                perception.process(frame, stamp / FPS)
                times[name].append((time.perf_counter() - start) * 1000.0)
                if name == 'on':
                    identity_ms.append(on.last_timings['identity'] * 1000.0)
                stamp += 1
                time.sleep(max(0.0, 1.0 / FPS - times[name][-1] / 1000.0))
        results['core_ms_p50_off'] = statistics.median(times['off'])
        results['core_ms_p50_on'] = statistics.median(times['on'])
        results['core_on_over_off'] = results['core_ms_p50_on'] / results['core_ms_p50_off']
        results['identity_ms_p50'] = statistics.median(identity_ms)
        results['identity_ms_p95'] = statistics.quantiles(identity_ms, n=20)[-1]
        results['identity_ms_max'] = max(identity_ms)
        results['embeddings'] = on.identity.embeddings_computed
        results['frames_on'] = stamp // 2
        gallery.close()
    return results, frame


def node(model_dir, frame, seconds, pairs=PAIRS):
    """Node p50 with identity off and on (fresh gallery each run), interleaved ``pairs`` times."""
    from bench import NodeBench
    OUTPUT.mkdir(parents=True, exist_ok=True)
    image = OUTPUT / 'frame_4_identities.png'
    cv2.imwrite(str(image), frame)
    from vision_msgs.msg import Detection2DArray
    bench = NodeBench(model_dir, OUTPUT)
    runs = {'off': [], 'on': []}
    # (stamp, faces, faces with a person id) of every detections message of the run.
    seen = []
    bench.listener.create_subscription(
        Detection2DArray, '/bench/faces/detections',
        lambda msg: seen.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9,
                                 len(msg.detections),
                                 sum(any(r.hypothesis.class_id == 'identity:person'
                                         for r in d.results) for d in msg.detections))), 10)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i, mode in enumerate(('off', 'on') * pairs):
                params = {'landmarks': True}
                if mode == 'on':
                    params.update(identity=True,
                                  identity_database=str(Path(tmp) / f'faces_{i}.db'))
                bench.start('reliable', **params)
                seen.clear()
                result = bench.run(image, FPS, seconds, 'shm')
                if mode == 'on':
                    # Input stamps from the first frame with faces to the first whose four
                    # faces all have a person id: the time to a person id at 30 fps.
                    first = min(t for t, n, _ in seen if n)
                    result['seconds_to_person_id'] = min(
                        (t for t, n, ids in seen if n == 4 and ids == 4), default=math.inf
                    ) - first
                runs[mode].append(result)
    finally:
        bench.close()
    summary = {mode: {'latency_ms_p50': statistics.median(r['latency_ms_p50'] for r in rs),
                      'latency_ms_p95': statistics.median(r['latency_ms_p95'] for r in rs),
                      'cpu_pct': statistics.median(r['cpu_pct'] for r in rs)}
               for mode, rs in runs.items()}
    summary['p50_on_over_off'] = (summary['on']['latency_ms_p50']
                                  / summary['off']['latency_ms_p50'])
    summary['seconds_to_person_id'] = [r['seconds_to_person_id'] for r in runs['on']]
    return summary, runs


def main():
    """Print and write bench_output/<distro>/bench_identity.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--repeats', type=int, default=150)
    parser.add_argument('--node-seconds', type=float, default=8.0)
    parser.add_argument('--no-node', action='store_true')
    parser.add_argument('--pairs', type=int, default=PAIRS)
    args = parser.parse_args()
    model_dir = os.environ.get('FACESENSE_MODEL_DIR', '')
    if not model_dir:
        sys.exit('identity_bench: FACESENSE_MODEL_DIR is not set (./dev/run.sh sets it)')
    results, frame = core(model_dir, args.repeats)
    print('identity, core, 4 faces of 130 px, 30 fps, default models + identity:')
    for key, value in results.items():
        print(f'  {key}: {value:.3f}' if isinstance(value, float) else f'  {key}: {value}')
    out = {'core': results}
    if not args.no_node:
        summary, runs = node(model_dir, frame, args.node_seconds, args.pairs)
        print('identity, node, 4 faces, 30 fps, shm, reliable: p50 ms  p95 ms  CPU %')
        for mode in ('off', 'on'):
            r = summary[mode]
            print(f'  {mode:>3}  {r["latency_ms_p50"]:6.1f}  {r["latency_ms_p95"]:6.1f}  '
                  f'{r["cpu_pct"]:5.0f}')
        print('  seconds from the first frame to a person id on all 4 faces: '
              + ', '.join(f'{t:.3f}' for t in summary['seconds_to_person_id']))
        print(f'  p50 on / off: {summary["p50_on_over_off"]:.3f}; each run (off, on): '
              + ', '.join(f'{r["latency_ms_p50"]:.1f}' for pair in zip(runs['off'], runs['on'])
                          for r in pair))
        out['node'] = {'summary': summary, 'runs': runs}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / 'bench_identity.json').write_text(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
