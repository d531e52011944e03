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


HEAD_POSE_FILE = (
    'intel/head-pose-estimation-adas-0001/FP16-INT8/head-pose-estimation-adas-0001.xml')
LANDMARKS_FILE = (
    'intel/landmarks-regression-retail-0009/FP16-INT8/landmarks-regression-retail-0009.xml')


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


def square_crop(box, scale, frame_size):
    """OMZ demo's crop: the box squared on its longer side, scaled, clamped; integer pixels."""
    width, height = frame_size
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    half = max(box[2] - box[0], box[3] - box[1]) * scale / 2.0
    x0, y0 = int(np.floor(cx - half)), int(np.floor(cy - half))
    x1, y1 = int(np.floor(cx + half)), int(np.floor(cy + half))
    x0, y0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    return x0, y0, max(min(x1, width), x0 + 1), max(min(y1, height), y0 + 1)


class ReferenceFaceGeometry:
    """
    The raw OMZ head-pose and landmarks models, one face at a time, as the seed ran models.

    cv2.resize of the crop, float32 NCHW BGR 0..255, no PrePostProcessor, outputs by the names
    of the 2022.3 files and by index for the landmarks (one output).
    """

    def __init__(self, model_dir, device='CPU', head_pose_file=HEAD_POSE_FILE,
                 landmarks_file=LANDMARKS_FILE):
        """Compile both models from ``model_dir`` (OMZ layout)."""
        root = Path(model_dir)
        core = ov.Core()
        self.head_pose = core.compile_model(str(root / head_pose_file), device)
        self.landmarks = core.compile_model(str(root / landmarks_file), device)

    def angles(self, frame, crop):
        """(yaw, pitch, roll) degrees of the integer crop (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = crop
        out = self.head_pose(_nchw(frame[y0:y1, x0:x1], 60, 60))
        return tuple(float(out[self.head_pose.output(n)].reshape(-1)[0])
                     for n in ('angle_y_fc', 'angle_p_fc', 'angle_r_fc'))

    def points(self, frame, crop):
        """Five (x, y) frame pixels of the integer crop (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = crop
        out = self.landmarks(_nchw(frame[y0:y1, x0:x1], 48, 48))[0].reshape(5, 2)
        return [(x0 + float(x) * (x1 - x0), y0 + float(y) * (y1 - y0)) for x, y in out]


def iou(a, b):
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
