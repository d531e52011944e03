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
The models on one frame: face boxes, then every enabled attribute model on every face.

Stateless across frames (no ids, no time): tracking, smoothing and scheduling are
perception.FacePerception's, which calls this.

``FacePipeline`` loads and checks every model when it is built (so a bad file fails at
start-up, not at frame 1000), then per frame: one u8 resize of the frame and one detector
inference (u8 -> f32 and layout inside the compiled model), and one batched inference per
attribute model (models.ATTRIBUTE_MODEL_CLASSES) for all faces of the frame, the models side
by side on their share of the CPUs. No ROS.
"""

import time
from typing import Dict, List, Optional, Sequence

from facesense_ros import model_store
from facesense_ros.config import ATTRIBUTE_MODELS, PipelineConfig, reload_needed
from facesense_ros.face import Face
from facesense_ros.models import (ATTRIBUTE_MODEL_CLASSES, AttributeModel, check_frame,
                                  FaceDetector, usable_cpus)
import numpy as np


class ReloadNeeded(ValueError):
    """update() was given a configuration that needs the models compiled again."""


def crop_boxes(faces: Sequence[Face], frame_size, roi_scale: float) -> np.ndarray:
    """
    Integer pixel crops (N x 4: x0, y0, x1, y1) for the attribute models.

    ``roi_scale`` 1.0 is the detector's own box, as the seed did. Above 1.0 the box is squared
    (side = the longer side) and scaled by ``roi_scale`` around its center, as OMZ's
    interactive_face_detection demo does. Crops are clamped to the frame and at least 1 px.
    """
    width, height = frame_size
    if not faces:
        return np.zeros((0, 4), np.int64)
    boxes = np.array([f.box for f in faces], np.float64)
    if roi_scale != 1.0:
        centers = (boxes[:, :2] + boxes[:, 2:]) / 2.0
        half = np.max(boxes[:, 2:] - boxes[:, :2], axis=1, keepdims=True) * roi_scale / 2.0
        boxes = np.hstack([centers - half, centers + half])
    # floor, like the seed's int() of a positive coordinate.
    crops = np.floor(boxes).astype(np.int64)
    limits = np.array([width, height, width, height])
    crops = np.clip(crops, 0, limits)
    crops[:, :2] = np.minimum(crops[:, :2], limits[:2] - 1)
    crops[:, 2:] = np.maximum(crops[:, 2:], crops[:, :2] + 1)
    return crops


def _run_side_by_side(frame: np.ndarray, jobs) -> list:
    """
    Run ``jobs`` [(model, face indices, crops)]: all but the last asynchronously.

    Each started model infers on its own threads while the next batch is cut and resized on
    this one; the last runs synchronously, then the started ones are collected. Returns
    [(face indices, per-face field values)] in ``jobs`` order.
    """
    if not jobs:
        return []
    started = []
    try:
        for model, _, crops in jobs[:-1]:
            model.start_async(model.preprocess(frame, crops))
            started.append(model)
        model, chosen, crops = jobs[-1]
        last = (chosen, model.run(frame, crops))
    finally:
        # Always collect every started request, or the next frame could not start one.
        outputs = [model.wait() for model in started]
    return [(chosen, model.postprocess(out, crops))
            for (model, chosen, crops), out in zip(jobs, outputs)] + [last]


class FacePipeline:
    """Face detector + the optional attribute models, configured by PipelineConfig."""

    def __init__(self, config: Optional[PipelineConfig] = None, model_dir=None,
                 download_missing: bool = True):
        """
        Find (or download), load and check every model that ``config`` enables.

        ``model_dir`` overrides ``config.model_dir``. Raises model_store.ModelError (one line,
        naming the file and what was expected) when a model is missing or unfit.
        """
        config = config or PipelineConfig()
        self._config = config
        directory = str(model_dir) if model_dir else (config.model_dir or None)

        def load(kind, name, precisions, **options):
            xml = model_store.resolve(name, precisions, directory,
                                      download_missing=download_missing)
            return kind(xml, config.device, config.performance_hint, **options)

        self.detector = load(FaceDetector, config.detector, config.detector_precisions)
        enabled = [kind for kind in ATTRIBUTE_MODEL_CLASSES if getattr(config, kind.key)]
        # The attribute models run side by side (all but the last asynchronously while the
        # last one runs), so each gets its share of the CPUs instead of all fighting over all
        # of them: two models measured 1.4-1.8x faster for 1-10 faces on 2 cores than one
        # after the other on all cores (bench/NOTES.md); with four, no other arrangement
        # measured faster (docs/models.md).
        split = len(enabled) > 1 and config.performance_hint == 'LATENCY'
        threads = {'num_threads': max(1, usable_cpus() // len(enabled))} if split else {}
        # In ATTRIBUTE_MODEL_CLASSES order, which is the order they are started in.
        self.attribute_models: Dict[str, AttributeModel] = {
            kind.key: load(kind, ATTRIBUTE_MODELS[kind.key],
                           getattr(config, f'{kind.key}_precisions'), **threads)
            for kind in enabled}
        self.last_timings: Dict[str, float] = {'detect': 0.0, 'attributes': 0.0}

    @property
    def models(self) -> Dict[str, object]:
        """Every loaded model by role: 'detector', then the attribute models' keys."""
        return {'detector': self.detector, **self.attribute_models}

    @property
    def config(self) -> PipelineConfig:
        """Return the configuration in effect."""
        return self._config

    def update(self, config: PipelineConfig) -> None:
        """
        Apply live settings (threshold, max_faces, roi_scale, minimum sizes) without reloading.

        Raises ReloadNeeded when a model-related field differs: build a new FacePipeline then.
        """
        if reload_needed(self._config, config):
            raise ReloadNeeded('the new configuration changes the models (detector, model_dir, '
                               'precisions, device, hint or enabled models): build a new '
                               'FacePipeline')
        self._config = config

    def detect(self, frame_bgr: np.ndarray) -> List[Face]:
        """Faces (box and score) in a HxWx3 uint8 BGR frame (or HxW gray), best first."""
        start = time.perf_counter()
        frame = check_frame(frame_bgr)
        faces = self.detector.detect(frame, self._config.confidence_threshold,
                                     self._config.max_faces)
        self.last_timings['detect'] = time.perf_counter() - start
        return faces

    def attributes(self, frame_bgr: np.ndarray, faces: Sequence[Face]) -> List[Face]:
        """
        Return ``faces`` (same order) with every enabled attribute model's fields filled in.

        An attribute stays None when its model is off or the face's shorter side is under its
        min_face_size_* parameter. All faces of the frame go through each model in one batch.
        """
        start = time.perf_counter()
        frame = check_frame(frame_bgr)
        config = self._config
        faces = list(faces)
        changes = [{} for _ in faces]
        if faces and self.attribute_models:
            frame_size = (frame.shape[1], frame.shape[0])
            sizes = np.array([min(f.width, f.height) for f in faces], np.float64)
            # Only the crop kinds that the loaded models want (the tight box: landmarks).
            scales = {'roi': config.roi_scale, 'tight': 1.0}
            crops = {kind: crop_boxes(faces, frame_size, scales[kind])
                     for kind in {m.crop for m in self.attribute_models.values()}}
            jobs = []
            for key, model in self.attribute_models.items():
                chosen = np.flatnonzero(sizes >= getattr(config, f'min_face_size_{key}'))
                if chosen.size:
                    jobs.append((model, chosen, crops[model.crop][chosen]))
            for chosen, values in _run_side_by_side(frame, jobs):
                for i, value in zip(chosen, values):
                    changes[i].update(value)
        out = [f.with_attributes(**c) if c else f for f, c in zip(faces, changes)]
        self.last_timings['attributes'] = time.perf_counter() - start
        return out

    def process(self, frame_bgr: np.ndarray) -> List[Face]:
        """Detect faces and compute their attributes; timings in ``last_timings``."""
        frame = check_frame(frame_bgr)
        return self.attributes(frame, self.detect(frame))
