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
One stream of frames in, tracked faces with smoothed attributes out: what the node calls.

FacePerception = one pipeline.FacePipeline (the models on one frame) + one tracking.Tracker
(ids, smoothing, scheduling across frames). ROS-free.

Per frame: the pipeline detects faces, the tracker gives them ids, the faces whose attributes
are due (``attribute_interval``) go through the attribute models in one batch, and each
track's smoothed attributes are returned. Thread-safe: the node may call :meth:`process` from
its image callback while a parameter callback calls :meth:`update_tracking` or
:meth:`set_pipeline`.
"""

import threading
import time
from typing import Dict, List, Optional, Tuple

from facesense_ros.config import TrackingConfig
from facesense_ros.face import Face
from facesense_ros.tracking import Tracker
import numpy as np


class FacePerception:
    """
    FacePipeline + Tracker: detection, ids, scheduled attribute models, smoothing.

    ``pipeline`` is anything with FacePipeline's ``detect(frame)``, ``attributes(frame,
    faces)``, ``process(frame)`` and ``last_timings``.
    """

    def __init__(self, pipeline, tracking_config: Optional[TrackingConfig] = None):
        """Start with no tracks; ``tracking_config`` defaults to TrackingConfig()."""
        self._lock = threading.Lock()
        self._pipeline = pipeline
        self._config = tracking_config if tracking_config is not None else TrackingConfig()
        self._tracker = Tracker(self._config)
        self.attribute_runs = 0
        self.frames = 0
        self.last_timings: Dict[str, float] = {}
        # Where faces missed in the last frame probably are (see Tracker.lost_boxes).
        self.lost_boxes: List[Tuple[float, float, float, float]] = []

    @property
    def pipeline(self):
        """Return the pipeline in use."""
        return self._pipeline

    @property
    def tracking_config(self) -> TrackingConfig:
        """Return the TrackingConfig in use."""
        return self._config

    @property
    def active_ids(self) -> List[int]:
        """Ids of the live tracks, lost ones waiting for their timeout included ([] untracked)."""
        with self._lock:
            return self._tracker.active_ids

    def update_tracking(self, config: TrackingConfig):
        """
        Apply a new TrackingConfig from the next frame on.

        Tracks and their smoothed values are kept, except that turning ``tracking`` off
        forgets every track (ids are still never reused when it is turned on again).
        """
        with self._lock:
            if not config.tracking:
                self._tracker.reset()
            self._config = config
            self._tracker.configure(config)

    def set_pipeline(self, pipeline):
        """
        Use another pipeline from the next frame on (e.g. after a model change).

        Track ids are kept; smoothed attributes are forgotten and recomputed on each track's
        next frame, so that values of the old models never linger.
        """
        with self._lock:
            self._pipeline = pipeline
            self._tracker.clear_attributes()

    def reset(self):
        """Forget every track, as after a jump back in time."""
        with self._lock:
            self._tracker.reset()

    def process(self, frame_bgr: np.ndarray, stamp: float) -> List[Face]:
        """
        Return the faces of one frame taken at ``stamp`` seconds, with ids and attributes.

        With ``tracking`` on: ids are stable across frames, and attributes are the track's
        smoothed values (recomputed every ``attribute_interval`` frames of the track). With it
        off: the pipeline's per-frame result with ``track_id`` = index in the frame.
        ``lost_boxes`` then holds where the faces of tracks missed in this frame probably are,
        for ``drawing.annotate(..., hidden_boxes=perception.lost_boxes)``.
        """
        with self._lock:
            pipeline = self._pipeline
            config = self._config
            self.frames += 1
            if not config.tracking:
                faces = pipeline.process(frame_bgr)
                self.attribute_runs += len(faces)
                self.last_timings = dict(pipeline.last_timings)
                # The same keys whether tracking is on or off, for the node's statistics.
                self.last_timings['tracking'] = 0.0
                self.lost_boxes = []
                return [f.with_attributes(track_id=i) for i, f in enumerate(faces)]
            detections = pipeline.detect(frame_bgr)
            detect_time = pipeline.last_timings.get('detect', 0.0)
            start = time.perf_counter()
            tracked = self._tracker.update(detections, stamp)
            self.lost_boxes = self._tracker.lost_boxes()
            due = self._tracker.attributes_due(tracked)
            tracking_time = time.perf_counter() - start
            chosen = [i for i, d in enumerate(due) if d]
            measured = list(tracked)
            attributes_time = 0.0
            if chosen:
                results = pipeline.attributes(frame_bgr, [tracked[i] for i in chosen])
                attributes_time = pipeline.last_timings.get('attributes', 0.0)
                self.attribute_runs += len(chosen)
                for i, face in zip(chosen, results):
                    measured[i] = face
            start = time.perf_counter()
            faces = self._tracker.smooth(measured)
            tracking_time += time.perf_counter() - start
            self.last_timings = dict(pipeline.last_timings)
            self.last_timings.update(
                detect=detect_time, attributes=attributes_time, tracking=tracking_time)
            return faces
