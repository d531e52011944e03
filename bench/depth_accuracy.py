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
Distance error from depth against the monocular estimate's, on the same rendered RGB-D frames.

Real faces (depth_scenes) at 0.5 to 6 m, holes, flying pixels, an object in front of part of
the face and the wall behind; the real detector and landmarks model (FacePipeline, defaults)
find the faces in the colour frame; each found face's z from depth (depth.FaceLocator) and
from its size (face_geometry.face_position, what the node gives without depth) is compared
with the truth. Prints the markdown table of docs/depth.md.
Run: ./dev/run.sh python bench/depth_accuracy.py [--scenes 20]

``--truth N``: instead, N scenes per encoding and depth resolution of 1-4 faces at 0.5-6 m
with their true boxes and landmarks (1 px noise), as test_depth.py checks them: the depth
error over every face, and over the occluded ones.
"""

import argparse
import os

from facesense_ros import depth, depth_scenes, face_geometry
from facesense_ros.config import PipelineConfig
from facesense_ros.pipeline import FacePipeline
import numpy as np

DISTANCES = (0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0)
# A detection is the rendered face when their boxes overlap this much.
MIN_IOU = 0.3


def _iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def truth_table(count):
    """Print the depth error on true boxes and landmarks, per encoding and depth resolution."""
    from facesense_ros.face import Face
    print('| depth | faces | with depth | error median / p95 / max | occluded faces: '
          'median / p95 / max | monocular instead, why |')
    print('|---|---|---|---|---|---|')
    for encoding in ('16UC1', '32FC1'):
        for scale in (1.0, 0.5):
            rng = np.random.default_rng(1)
            errors, occluded, total, reasons = [], [], 0, {}
            for k in range(count):
                n = 1 + k % 4
                distances = list(rng.uniform(0.5, 6.0, n))
                if n > 1:
                    distances = [max(d, 1.2) for d in distances]
                scene = depth_scenes.render(distances, seed=k, depth_scale=scale,
                                            encoding=encoding)
                faces = [Face(*f.box, score=0.9, track_id=i + 1, landmarks=tuple(
                    (x + rng.normal(0, 1), y + rng.normal(0, 1)) for x, y in f.landmarks))
                    for i, f in enumerate(scene.faces)]
                width, height = scene.depth_size
                frame = depth.decode_depth(scene.depth_data, encoding, width, height,
                                           scene.step, frame_id='cam')
                positions, _ = depth.FaceLocator().locate(faces, scene.intrinsics, frame, None,
                                                          'cam', depth_scenes.SIZE, 0.0)
                for truth, position in zip(scene.faces, positions):
                    total += 1
                    if position.source != depth.SOURCE_DEPTH:
                        reasons[position.reason] = reasons.get(position.reason, 0) + 1
                        continue
                    error = abs(position.position[2] - truth.truth_z) / truth.truth_z
                    errors.append(error)
                    if truth.occluded:
                        occluded.append(error)

            def figures(values):
                return ' / '.join(f'{100 * v:.2f} %' for v in (
                    np.median(values), np.percentile(values, 95), np.max(values)))
            print(f'| {encoding}, {"full" if scale == 1.0 else "half"} resolution | {total} | '
                  f'{len(errors)} | {figures(errors)} | {figures(occluded)} | '
                  + ', '.join(f'{n} {reason}' for reason, n in sorted(reasons.items())) + ' |')


def main():
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--scenes', type=int, default=20, help='scenes per distance')
    parser.add_argument('--truth', type=int, default=0,
                        help='scenes per configuration on true boxes (no models)')
    args = parser.parse_args()
    if args.truth:
        truth_table(args.truth)
        return
    pipeline = FacePipeline(PipelineConfig(model_dir=os.environ.get('FACESENSE_MODEL_DIR', '')))
    rng = np.random.default_rng(0)
    print('| distance | faces found / rendered | with depth | depth error median / p95 | '
          'monocular error median / p95 |')
    print('|---|---|---|---|---|')
    for distance in DISTANCES:
        found = with_depth = 0
        depth_errors, mono_errors = [], []
        for k in range(args.scenes):
            z = distance * rng.uniform(0.95, 1.05)
            scene = depth_scenes.render([z], seed=k, depth_scale=(1.0, 0.5)[k % 2],
                                        encoding=('16UC1', '32FC1')[(k // 2) % 2],
                                        occluder=bool(k % 3 == 0))
            truth = scene.faces[0]
            faces = [f for f in pipeline.process(scene.colour) if _iou(f.box, truth.box)
                     >= MIN_IOU]
            if not faces:
                continue
            found += 1
            face = faces[0]
            width, height = scene.depth_size
            frame = depth.decode_depth(scene.depth_data, scene.encoding, width, height,
                                       scene.step, frame_id='cam')
            positions, _ = depth.FaceLocator().locate([face], scene.intrinsics, frame, None,
                                                      'cam', depth_scenes.SIZE, 0.0)
            mono = face_geometry.face_position(face.box, face.landmarks, face.head_pose,
                                               scene.intrinsics)[2]
            mono_errors.append(abs(mono - truth.truth_z) / truth.truth_z)
            if positions[0].source == depth.SOURCE_DEPTH:
                with_depth += 1
                depth_errors.append(abs(positions[0].position[2] - truth.truth_z)
                                    / truth.truth_z)

        def figures(errors):
            if not errors:
                return '-'
            return (f'{100 * np.median(errors):.2f} % / '
                    f'{100 * np.percentile(errors, 95):.2f} %')
        print(f'| {distance:g} m | {found} / {args.scenes} | {with_depth} | '
              f'{figures(depth_errors)} | {figures(mono_errors)} |')


if __name__ == '__main__':
    main()
