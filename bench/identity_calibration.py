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
Calibrate the identity threshold on ../shared/data/identities (docs/identity.md).

Every photo's face is embedded with the node's detector, landmarks and re-identification
model. Leave-one-out: each photo is matched against a gallery of every other photo (a person's
score is their best photo's similarity), so the genuine score is the best similarity to the
same person's other photos and the impostor score the best similarity to anyone else. Group
photos' faces (named left to right in the data's README) take part like single photos.
Prints the genuine and impostor ranges, the margin and the threshold in its middle.

    ./dev/run.sh python bench/identity_calibration.py [--precision FP16]
"""

import argparse
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cv2  # noqa: E402, I100 (after the path above, like the package)
from facesense_ros.config import PipelineConfig  # noqa: E402, I100
from facesense_ros.identity import photo_faces  # noqa: E402
from facesense_ros.pipeline import FacePipeline  # noqa: E402
import numpy as np  # noqa: E402, I100

IDENTITIES = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'identities'
# Who is in each group photo, left to right (the data's README).
GROUPS = {
    'obama_biden_1': ('obama', 'biden'),
    'obama_biden_unknown_2': ('biden', 'obama', None),
    'kit_harington_rose_leslie': ('rose_leslie', 'kit_harington'),
}


def load_models(precision='FP16', model_dir=None):
    """Return the pipeline (detector + landmarks + identity) and its re-identification model."""
    pipeline = FacePipeline(PipelineConfig(age_gender=False, emotions=False, head_pose=False,
                                           landmarks=True, identity=True,
                                           identity_precisions=(precision,)),
                            model_dir=model_dir, download_missing=False)
    return pipeline, pipeline.identity_model


def labelled_faces(pipeline, model, root=IDENTITIES):
    """Return [(person or None, source, embedding)] of every face of the identity photos."""
    faces = []
    for path in sorted(p for p in root.glob('*/*') if p.suffix in ('.jpg', '.png')):
        found = photo_faces(pipeline, model, cv2.imread(str(path)))
        if path.parent.name == 'groups':
            people = GROUPS[path.stem]
            if len(found) != len(people):
                raise SystemExit(f'{path}: {len(found)} faces, expected {len(people)}')
            faces += [(p, f'{path.stem}[{i}]', e) for i, (p, (_, e)) in
                      enumerate(zip(people, found))]
        else:
            if not found:
                raise SystemExit(f'{path}: no face found')
            # The biggest face is the person the folder names.
            face, embedding = max(found, key=lambda fe: fe[0].width)
            faces.append((path.parent.name, f'{path.parent.name}/{path.name}', embedding))
    return faces


def leave_one_out(faces):
    """Return [(person, source, best genuine similarity or None, best impostor similarity)]."""
    embeddings = np.array([e for _, _, e in faces])
    similarities = embeddings @ embeddings.T
    rows = []
    for i, (person, source, _) in enumerate(faces):
        same = [similarities[i, j] for j, (p, _, _) in enumerate(faces)
                if j != i and person is not None and p == person]
        other = [similarities[i, j] for j, (p, _, _) in enumerate(faces)
                 if j != i and (p != person or person is None)]
        rows.append((person, source, max(same) if same else None, max(other)))
    return rows


def main():
    """Print the leave-one-out table and the threshold's margins."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--precision', default='FP16')
    args = parser.parse_args()
    pipeline, model = load_models(args.precision)
    rows = leave_one_out(labelled_faces(pipeline, model))
    for person, source, genuine, impostor in rows:
        g = f'{genuine:.3f}' if genuine is not None else '  -  '
        print(f'{source:<34} genuine {g}  impostor {impostor:.3f}')
    genuine = [g for _, _, g, _ in rows if g is not None]
    impostor = [i for _, _, _, i in rows]
    print(f'{args.precision}: {len(rows)} faces; best genuine {min(genuine):.3f}..'
          f'{max(genuine):.3f}, best impostor {min(impostor):.3f}..{max(impostor):.3f}, '
          f'margin {min(genuine) - max(impostor):.3f}, middle '
          f'{(min(genuine) + max(impostor)) / 2:.3f}')
    faces = labelled_faces(pipeline, model)
    pairs = [(a[0] is not None and a[0] == b[0], float(np.dot(a[2], b[2])))
             for i, a in enumerate(faces) for b in faces[i + 1:]]
    same = [s for g, s in pairs if g]
    other = [s for g, s in pairs if not g]
    print(f'all pairs: {len(same)} genuine {min(same):.3f}..{max(same):.3f}, '
          f'{len(other)} impostor {min(other):.3f}..{max(other):.3f}')


if __name__ == '__main__':
    main()
