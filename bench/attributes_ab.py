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
A/B of the attribute stage with head pose and landmarks (docs/models.md, bench/NOTES.md).

FacePipeline.process on the same frame, ms per frame, variants interleaved round after round:
  three models    detector + age-gender + emotions (head_pose and landmarks off);
  five, pipeline  all five models, as FacePipeline runs them: every attribute model on its
                  share of the cores (usable CPUs / 4, at least 1 thread), all but the last
                  started asynchronously, then the last run, then the others collected;
  five, two lanes the same single-share models, at most two in flight (age-gender with
                  emotions, then head pose with landmarks);
  five, in turn   the four attribute models one after the other, each on every core.
The cost of the two new models is "five, pipeline" minus "three models", from the medians
and from the best rounds (the least disturbed by other jobs on a shared machine).

    ./dev/run.sh python bench/attributes_ab.py [--frames 30] [--rounds 7]
"""

import argparse
import os
from pathlib import Path
import statistics
import sys
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'bench'))
from bench import bench_frames, FIVE_MODELS  # noqa: E402, I100 (found through the path above)
from facesense_ros.config import PipelineConfig  # noqa: E402, I100
from facesense_ros.models import ATTRIBUTE_MODEL_CLASSES  # noqa: E402
from facesense_ros.pipeline import crop_boxes, FacePipeline  # noqa: E402

FACE_COUNTS = (1, 4, 10)


def per_frame_ms(fn, frames):
    """Call ``fn`` ``frames`` times; ms per call."""
    start = time.perf_counter()
    for _ in range(frames):
        fn()
    return (time.perf_counter() - start) * 1000.0 / frames


def lanes(pipeline, frame, width):
    """Detector, then the attribute models with at most ``width`` in flight."""
    config = pipeline.config
    faces = pipeline.detect(frame)
    size = (frame.shape[1], frame.shape[0])
    crops = {'roi': crop_boxes(faces, size, config.roi_scale),
             'tight': crop_boxes(faces, size, 1.0)}
    models = list(pipeline.attribute_models.values())
    for start in range(0, len(models), width):
        group = models[start:start + width]
        for model in group:
            model.start_async(model.preprocess(frame, crops[model.crop]))
        for model in group:
            model.postprocess(model.wait(), crops[model.crop])


def in_turn(pipeline, frame):
    """Detector, then each attribute model synchronously."""
    config = pipeline.config
    faces = pipeline.detect(frame)
    size = (frame.shape[1], frame.shape[0])
    for model in pipeline.attribute_models.values():
        model.run(frame, crop_boxes(faces, size, 1.0 if model.crop == 'tight'
                                    else config.roi_scale))


def main():
    """Print the medians over ``--rounds`` interleaved rounds per face count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=30)
    parser.add_argument('--rounds', type=int, default=7)
    args = parser.parse_args()
    model_dir = os.environ.get('FACESENSE_MODEL_DIR')
    three = FacePipeline(PipelineConfig(**dict(FIVE_MODELS, head_pose=False, landmarks=False)),
                         model_dir=model_dir)
    five = FacePipeline(PipelineConfig(**FIVE_MODELS), model_dir=model_dir)
    # The same files, the attribute models recompiled without a thread limit (every core).
    all_cores = FacePipeline(PipelineConfig(**FIVE_MODELS), model_dir=model_dir)
    for kind in ATTRIBUTE_MODEL_CLASSES:
        model = all_cores.attribute_models[kind.key]
        all_cores.attribute_models[kind.key] = kind(model.path, 'CPU', 'LATENCY')
    frames = bench_frames()
    print(f'load average at start: {os.getloadavg()[0]:.2f}; {args.rounds} rounds of '
          f'{args.frames} frames')
    for n in FACE_COUNTS:
        frame = frames[n][0]
        variants = {
            'three models': lambda: three.process(frame),
            'five, pipeline': lambda: five.process(frame),
            'five, two lanes': lambda: lanes(five, frame, 2),
            'five, in turn': lambda: in_turn(all_cores, frame),
        }
        for run in variants.values():
            per_frame_ms(run, 5)  # warm-up
        times = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, run in variants.items():
                times[name].append(per_frame_ms(run, args.frames))
        # Other jobs only ever slow a round down: the best round is the least disturbed one.
        for label, pick in (('median', statistics.median), ('best', min)):
            picked = {name: pick(t) for name, t in times.items()}
            base = picked['three models']
            print(f'{n:2d} faces, {label:>6}: '
                  + '  '.join(f'{name} {ms:.2f}' for name, ms in picked.items())
                  + f'  | new models cost {picked["five, pipeline"] - base:.2f} ms '
                  f'({(picked["five, pipeline"] / base - 1) * 100:+.1f} %)')
        print('   per round five/three: ' + ' '.join(
            f'{f / t:.2f}' for f, t in zip(times['five, pipeline'], times['three models'])))


if __name__ == '__main__':
    main()
