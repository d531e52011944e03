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
A/B of overlapping frames against FacePipeline.process back to back (bench/NOTES.md s. 11).

Three ways to push the same frame through, ms per frame (wall time / frames), interleaved:
  back to back  FacePipeline.process, one frame after the other (what make bench reports);
  overlapped    the detector of frame N+1 runs asynchronously while the attributes of frame N
                run (OMZ's C++ demo pipelining, AsyncInferQueue-style);
  two in flight two FacePipelines with the THROUGHPUT hint (one stream, one core per inference),
                each fed by its own Python thread (OpenVINO releases the GIL while inferring).

    ./dev/run.sh python bench/overlap_ab.py [--frames 40] [--rounds 5]
"""

import argparse
import os
from pathlib import Path
import statistics
import sys
import threading
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'bench'))
from bench import bench_frames, SAME_WORK  # noqa: E402, I100 (found through the path above)
from facesense_ros.config import PipelineConfig  # noqa: E402, I100
from facesense_ros.pipeline import FacePipeline  # noqa: E402

FACE_COUNTS = (4, 10)


def back_to_back(pipeline, frame, frames):
    """Process ``frames`` copies of ``frame`` one after the other; ms per frame."""
    start = time.perf_counter()
    for _ in range(frames):
        pipeline.process(frame)
    return (time.perf_counter() - start) * 1000.0 / frames


def overlapped(pipeline, frame, frames):
    """Detector of frame N+1 asynchronously while the attributes of frame N run."""
    detector, config = pipeline.detector, pipeline.config
    size = (frame.shape[1], frame.shape[0])

    def collect():
        return detector.postprocess(detector.wait(), size, config.confidence_threshold,
                                    config.max_faces)
    detector.start_async(detector.preprocess(frame))
    faces = collect()
    start = time.perf_counter()
    for _ in range(frames):
        detector.start_async(detector.preprocess(frame))
        pipeline.attributes(frame, faces)
        faces = collect()
    return (time.perf_counter() - start) * 1000.0 / frames


def two_in_flight(pipelines, frame, frames):
    """Two pipelines, each in its own thread, share ``frames`` frames; ms per frame."""
    workers = [threading.Thread(target=back_to_back, args=(p, frame, frames // 2))
               for p in pipelines]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (time.perf_counter() - start) * 1000.0 / (frames // 2 * 2)


def main():
    """Print the medians over ``--rounds`` interleaved rounds for 4 and 10 faces."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=40)
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    model_dir = os.environ.get('FACESENSE_MODEL_DIR')
    pipeline = FacePipeline(PipelineConfig(**SAME_WORK), model_dir=model_dir)
    throughput = [FacePipeline(PipelineConfig(performance_hint='THROUGHPUT', **SAME_WORK),
                               model_dir=model_dir) for _ in range(2)]
    frames = bench_frames()
    variants = {
        'back to back': lambda f: back_to_back(pipeline, f, args.frames),
        'overlapped': lambda f: overlapped(pipeline, f, args.frames),
        'two in flight': lambda f: two_in_flight(throughput, f, args.frames),
    }
    print(f'load average at start: {os.getloadavg()[0]:.2f}')
    for n in FACE_COUNTS:
        frame = frames[n][0]
        for run in variants.values():
            run(frame)  # warm-up
        times = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, run in variants.items():
                times[name].append(run(frame))
        medians = {name: statistics.median(t) for name, t in times.items()}
        base = medians['back to back']
        print(f'{n:2d} faces: ' + '  '.join(
            f'{name} {ms:.2f} ms ({base / ms:.2f}x)' for name, ms in medians.items()))


if __name__ == '__main__':
    main()
