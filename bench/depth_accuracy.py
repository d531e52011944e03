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


def main():
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--scenes', type=int, default=20, help='scenes per distance')
    args = parser.parse_args()
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
