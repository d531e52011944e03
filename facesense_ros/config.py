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
The core's parameters (``PARAMETERS``) and the two configurations validated against them.

``PARAMETERS`` is the single source of truth for names, defaults, descriptions and ranges: the
per-model and per-attribute ones are generated from attributes.MODELS and
attributes.ATTRIBUTES, PipelineConfig and TrackingConfig get one field per parameter of their
group, and the ROS node declares every one of them (ros_parameters.py), so the core, the node,
``config/facesense.yaml`` and README cannot drift apart.

Names: ``<key>``, ``<key>_precisions`` and ``min_face_size_<key>`` follow a model's key
(attributes.ModelSpec: ``emotions``, after emotions-recognition-retail-0003);
``<field>_smoothing`` follows the Face field it smooths (``emotion``).
"""

from dataclasses import asdict, field, fields, make_dataclass
from typing import Any, Dict, Optional

from facesense_ros.attributes import (ATTENTION_PITCH_DEFAULT, ATTENTION_YAW_DEFAULT,
                                      ATTRIBUTES, HEAD_POSE_DEFAULT, LANDMARKS_DEFAULT, MODELS,
                                      MODELS_BY_KEY)
from facesense_ros.param_spec import ParamSpec

__all__ = ('AGE_GENDER_MODEL', 'ATTENTION_PITCH_DEFAULT', 'ATTENTION_YAW_DEFAULT',
           'ATTRIBUTE_MODELS', 'check_parameter', 'DETECTORS', 'EMOTIONS_MODEL',
           'HEAD_POSE_DEFAULT', 'HEAD_POSE_MODEL', 'LANDMARKS_DEFAULT', 'LANDMARKS_MODEL',
           'PARAMETERS', 'ParamSpec', 'PERFORMANCE_HINTS', 'PipelineConfig', 'PRECISIONS',
           'PRIVACY_MODES', 'reload_needed', 'TrackingConfig')

# The SSD-style ([1, 1, N, 7] output) face detectors of Open Model Zoo that we support.
DETECTORS = (
    'face-detection-0102',
    'face-detection-0202',
    'face-detection-retail-0004',
    'face-detection-retail-0005',
    'face-detection-adas-0001',
)
AGE_GENDER_MODEL = MODELS_BY_KEY['age_gender'].omz_name
EMOTIONS_MODEL = MODELS_BY_KEY['emotions'].omz_name
HEAD_POSE_MODEL = MODELS_BY_KEY['head_pose'].omz_name
LANDMARKS_MODEL = MODELS_BY_KEY['landmarks'].omz_name
# Every attribute model's OMZ name by its parameter key (attributes.MODELS declares them).
ATTRIBUTE_MODELS = {m.key: m.omz_name for m in MODELS}
# OMZ publishes these precisions; the first one found on disk wins.
PRECISIONS = ('FP16-INT8', 'FP16', 'FP32')
PERFORMANCE_HINTS = ('LATENCY', 'THROUGHPUT')
PRIVACY_MODES = ('off', 'blur', 'pixelate')

_SPECS = (
    # --- models (changing any of these rebuilds the compiled models) ---
    ParamSpec('detector', DETECTORS[0], 'Face detector model (OMZ name).',
              choices=DETECTORS, needs_reload=True),
    ParamSpec('model_dir', '', 'Directory holding OMZ intel/<model>/<PRECISION>/ files; empty: '
              '$FACESENSE_MODEL_DIR, then ~/.cache/facesense_ros/models.', needs_reload=True),
    *(m.enable_spec() for m in MODELS),
    ParamSpec('detector_precisions', PRECISIONS, 'Precisions to try for the detector, in order.',
              choices=PRECISIONS, needs_reload=True),
    *(m.precisions_spec(PRECISIONS) for m in MODELS),
    ParamSpec('device', 'CPU', 'OpenVINO device: CPU, GPU, NPU, AUTO, ...', needs_reload=True),
    ParamSpec('performance_hint', 'LATENCY', 'OpenVINO performance hint.',
              choices=PERFORMANCE_HINTS, needs_reload=True),
    # --- per-frame behaviour (applied live) ---
    ParamSpec('confidence_threshold', 0.5, 'Minimum detector score of a face.', 0.0, 1.0),
    ParamSpec('max_faces', 20, 'At most this many faces per frame (highest scores kept).', 1, 200),
    ParamSpec('roi_scale', 1.2, 'Attribute crops: the box squared and scaled by this factor '
              '(1.0 = the detector box, as the seed did).', 1.0, 2.0),
    *(m.min_face_size_spec() for m in MODELS),
    # --- tracking, smoothing, privacy ---
    ParamSpec('tracking', True, 'Give faces stable ids across frames.', group='tracking'),
    ParamSpec('track_timeout', 1.0, 'Seconds a lost track is kept before its id retires.',
              0.0, 60.0, group='tracking'),
    ParamSpec('track_iou_threshold', 0.3, 'Minimum box overlap to continue a track.', 0.0, 1.0,
              group='tracking'),
    ParamSpec('smoothing', True, 'Smooth attributes per track over time.', group='tracking'),
    *(a.smoothing_spec() for a in ATTRIBUTES if a.smoothing_parameter),
    ParamSpec('attribute_interval', 1, 'Run attribute models on a tracked face every N frames.',
              1, 100, group='tracking'),
    # Attributes' own parameters (attention_yaw and attention_pitch: head_pose's).
    *(spec for a in ATTRIBUTES for spec in a.parameters),
    ParamSpec('privacy_mode', 'off', 'Hide faces in the annotated image.',
              choices=PRIVACY_MODES, group='tracking'),
)
PARAMETERS: Dict[str, ParamSpec] = {spec.name: spec for spec in _SPECS}


def check_parameter(name: str, value) -> Optional[str]:
    """Return why ``value`` is not acceptable for parameter ``name``, or None."""
    spec = PARAMETERS.get(name)
    if spec is None:
        return f'unknown parameter {name!r}'
    return spec.check(value)


class _Checked:
    """Mixin: validate every field against PARAMETERS in __post_init__."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(self, f.name, value)
            if isinstance(PARAMETERS[f.name].default, float) and isinstance(value, int):
                object.__setattr__(self, f.name, float(value))
            reason = check_parameter(f.name, value)
            if reason:
                raise ValueError(reason)

    def to_dict(self) -> Dict[str, Any]:
        """Field values by name."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]):
        """Build from a mapping, ignoring keys that are not fields of this class."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def _config_class(name: str, group: str, doc: str):
    """Return a frozen dataclass with one field per parameter of ``group``, named as it."""
    return make_dataclass(
        name, [(s.name, type(s.default), field(default=s.default))
               for s in _SPECS if s.group == group],
        bases=(_Checked,), frozen=True, namespace={'__doc__': doc, '__module__': __name__})


PipelineConfig = _config_class(
    'PipelineConfig', 'pipeline',
    "What FacePipeline runs and how; field names are the node's parameter names.\n\n"
    "One field per parameter of group 'pipeline': the models, the detector's threshold and "
    'maximum faces, the crops and the minimum face sizes.')
_TrackingFields = _config_class(
    'TrackingConfig', 'tracking',
    "How faces are tracked and smoothed, when a face counts as looking, and the image's "
    'privacy.\n\nThe generated fields of TrackingConfig below.')


class TrackingConfig(_TrackingFields):
    """
    How faces are tracked, smoothed and located, when one counts as looking, the image's privacy.

    Everything that happens after the models: FacePerception, the Detection2D encoding
    (attention), the annotated image and the 3D positions (depth.FaceLocator) use it. One field
    per parameter of group 'tracking'; depth_min must be below depth_max.
    """

    def __post_init__(self):
        """Check every field, then the ones that constrain each other (depth_min < max)."""
        super().__post_init__()
        if self.depth_min >= self.depth_max:
            raise ValueError(f'depth_min ({self.depth_min}) must be below depth_max '
                             f'({self.depth_max})')


def reload_needed(old: PipelineConfig, new: PipelineConfig) -> bool:
    """Whether going from ``old`` to ``new`` needs the models compiled again."""
    return any(getattr(old, f.name) != getattr(new, f.name)
               for f in fields(PipelineConfig) if PARAMETERS[f.name].needs_reload)
