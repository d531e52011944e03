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
The seed's algorithm on the current OpenVINO API: the reference FacePipeline is checked against.

Deliberately naive, like the seed: cv2.resize of the whole frame to the detector input on the
host, float32 NCHW, one synchronous inference per model per face, the detector's tight box as
the crop, cv2.resize of the crop to 62x62 / 64x64. Used by the tests and by the benchmark as the
"before" figure. Plain dicts out, so that it shares no code with the package it checks.
"""

from pathlib import Path

import cv2
import numpy as np
import openvino as ov

DETECTOR_FILES = {
    'face-detection-0102': 'intel/face-detection-0102/FP16/face-detection-0102.xml',
    'face-detection-0202': 'intel/face-detection-0202/FP16/face-detection-0202.xml',
    'face-detection-retail-0004': (
        'intel/face-detection-retail-0004/FP16/face-detection-retail-0004.xml'),
    'face-detection-retail-0005': (
        'intel/face-detection-retail-0005/FP16/face-detection-retail-0005.xml'),
    'face-detection-adas-0001': 'intel/face-detection-adas-0001/FP16/face-detection-adas-0001.xml',
}
AGE_GENDER_FILE = (
    'intel/age-gender-recognition-retail-0013/FP16-INT8/age-gender-recognition-retail-0013.xml')
EMOTIONS_FILE = (
    'intel/emotions-recognition-retail-0003/FP16-INT8/emotions-recognition-retail-0003.xml')


def _nchw(image, width, height):
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return resized.transpose(2, 0, 1)[None].astype(np.float32)


class ReferencePipeline:
    """Seed-style detector + age/gender + emotions, one face at a time."""

    def __init__(self, model_dir, detector='face-detection-0102', threshold=0.5,
                 detector_file=None, device='CPU'):
        """Compile the three models from ``model_dir`` (OMZ layout)."""
        root = Path(model_dir)
        core = ov.Core()
        self.threshold = threshold
        self.detector = core.compile_model(
            str(root / (detector_file or DETECTOR_FILES[detector])), device)
        self.age_gender = core.compile_model(str(root / AGE_GENDER_FILE), device)
        self.emotions = core.compile_model(str(root / EMOTIONS_FILE), device)
        det_in = self.detector.input(0)
        self.det_height, self.det_width = det_in.shape[2], det_in.shape[3]
        self.det_out = next(o for o in self.detector.outputs if o.shape[-1] == 7)

    def detect(self, frame):
        """Return [{'box': (x0, y0, x1, y1), 'score': s}] in frame pixels, clamped."""
        height, width = frame.shape[:2]
        rows = self.detector(_nchw(frame, self.det_width, self.det_height))[self.det_out][0, 0]
        faces = []
        for row in rows:
            if row[0] < 0:
                break
            if row[2] < self.threshold:
                continue
            x0 = min(max(float(row[3]) * width, 0.0), width)
            y0 = min(max(float(row[4]) * height, 0.0), height)
            x1 = min(max(float(row[5]) * width, 0.0), width)
            y1 = min(max(float(row[6]) * height, 0.0), height)
            if x1 > x0 and y1 > y0:
                faces.append({'box': (x0, y0, x1, y1), 'score': float(row[2])})
        faces.sort(key=lambda f: -f['score'])
        return faces

    def attributes(self, frame, box):
        """Age (years), gender (female, male), emotion (5) of the tight crop ``box``."""
        x0, y0, x1, y1 = (int(v) for v in box)
        crop = frame[y0:y1, x0:x1]
        ag = self.age_gender(_nchw(crop, 62, 62))
        emo = self.emotions(_nchw(crop, 64, 64))
        return {
            'age': float(ag[self.age_gender.output('age_conv3')].reshape(-1)[0]) * 100.0,
            'gender': tuple(float(v) for v in ag[self.age_gender.output('prob')].reshape(-1)),
            'emotion': tuple(float(v) for v in emo[self.emotions.output('prob_emotion')]
                             .reshape(-1)),
        }

    def process(self, frame):
        """Detect, then run both attribute models on every face, one by one."""
        faces = self.detect(frame)
        for face in faces:
            face.update(self.attributes(frame, face['box']))
        return faces


def iou(a, b):
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
