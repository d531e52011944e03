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
OpenVINO wrappers of the Open Model Zoo face models: the only module that imports openvino.

Each wrapper checks at load that the file really is a model for its role, compiles it with the
per-pixel float work (u8 -> f32, NHWC -> NCHW; optionally the detector's resize) inside the
compiled model, and splits a run into ``preprocess`` -> ``infer`` (or ``start_async`` /
``wait``) -> ``postprocess``, in the style of OMZ's model_api, so that a caller can overlap the
detection of one frame with the attributes of another.
"""

import functools
import logging
import os
from pathlib import Path
import threading
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
from facesense_ros.attributes import HEAD_POSE_ANGLES, LANDMARK_NAMES, MODELS, MODELS_BY_KEY
from facesense_ros.config import PERFORMANCE_HINTS, PRECISIONS
from facesense_ros.face import Face
# One error class for the whole model path (store and wrappers): the node catches just this.
from facesense_ros.model_store import ModelError
import numpy as np
import openvino as ov
from openvino import Layout, PartialShape, Type
from openvino.preprocess import PrePostProcessor, ResizeAlgorithm

LOGGER = logging.getLogger('facesense_ros')
# OMZ detectors emit rows [image_id, label, conf, x_min, y_min, x_max, y_max].
DETECTION_ROW = 7


@functools.lru_cache(maxsize=1)
def _core() -> ov.Core:
    """One OpenVINO Core per process: it caches plugins, and creating one costs time."""
    return ov.Core()


def _describe(ports) -> List[str]:
    """Name and shape of model ports, for error messages."""
    described = []
    for port in ports:
        names = sorted(port.get_names())
        shape = port.get_partial_shape()
        dims = tuple(d.get_length() if d.is_static else -1 for d in shape) \
            if shape.rank.is_static else '?'
        described.append(f'{names[0] if names else "?"!r} {dims}')
    return described


def _precision_of(path: Path) -> str:
    """OMZ keeps each precision in its own folder: intel/<model>/<PRECISION>/<model>.xml."""
    return path.parent.name if path.parent.name in PRECISIONS else 'unknown precision'


def read_model(xml_path) -> Tuple[Path, ov.Model]:
    """Read an IR (.xml + .bin); ModelError naming the file when missing or damaged."""
    path = Path(xml_path)
    if path.suffix != '.xml':
        raise ModelError(f'{path}: expected an OpenVINO IR .xml file')
    if not path.is_file():
        raise ModelError(f'{path}: model file not found')
    weights = path.with_suffix('.bin')
    if not weights.is_file():
        raise ModelError(f'{weights}: weights file not found (needed next to {path.name})')
    try:
        model = _core().read_model(str(path), str(weights))
    except RuntimeError as e:
        # OpenVINO's messages are long C++ traces; keep their last line, which says why.
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise ModelError(f'{path} (+ {weights.name}) could not be read, the file is damaged or '
                         f'truncated: {reason}') from e
    return path, model


def _static_dims(port) -> Tuple[int, ...]:
    shape = port.get_partial_shape()
    if not shape.is_static:
        return ()
    return tuple(d.get_length() for d in shape)


def _compile_properties(performance_hint: str, device: str,
                        num_threads: Optional[int] = None) -> Dict[str, object]:
    if performance_hint not in PERFORMANCE_HINTS:
        raise ModelError(f'performance_hint must be one of {list(PERFORMANCE_HINTS)}, '
                         f'got {performance_hint!r}')
    properties: Dict[str, object] = {'PERFORMANCE_HINT': performance_hint}
    if num_threads and device == 'CPU':
        # Two models given half the cores each only run side by side if their threads may
        # move: pinned, both would be put on the same first cores (measured: no overlap).
        properties.update({'INFERENCE_NUM_THREADS': int(num_threads),
                           'ENABLE_CPU_PINNING': False})
    return properties


def usable_cpus() -> int:
    """Return how many CPUs this process may run on (its affinity mask, e.g. a container's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        # No affinity API on this platform (macOS, Windows).
        return os.cpu_count() or 1


class _Wrapper:
    """
    What every model wrapper shares: loading, compiling, one infer request, async use.

    ``num_threads`` (CPU only) caps the model's inference threads and lets them move between
    cores, so that two models can run side by side on their share of the CPUs.
    """

    role = 'model'

    def __init__(self, xml_path, device: str = 'CPU', performance_hint: str = 'LATENCY',
                 num_threads: Optional[int] = None):
        self.path, model = read_model(xml_path)
        self.precision = _precision_of(self.path)
        self.device = device
        self._check(model)
        model = self._prepare(model)
        try:
            self.compiled = _core().compile_model(
                model, device, _compile_properties(performance_hint, device, num_threads))
        except RuntimeError as e:
            reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            raise ModelError(f'{self.path}: cannot compile for device {device!r}: '
                             f'{reason}') from e
        self._request = self.compiled.create_infer_request()
        # One request per wrapper: start_async/wait pairs must not interleave across threads.
        self._lock = threading.Lock()
        self._pending = None
        LOGGER.info('loaded %s %s (%s) on %s', self.role, self.path, self.precision, device)

    def _check(self, model):
        raise NotImplementedError

    def _prepare(self, model):
        raise NotImplementedError

    def infer(self, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        """Run synchronously on preprocessed ``inputs``; outputs by name (copies)."""
        with self._lock:
            if self._pending is not None:
                raise RuntimeError(f'{self.role}: infer() while a start_async is not waited for')
            # Shared, not copied into the request: it is ours and unchanged until infer returns
            # (measured 0.1 ms less per detector frame).
            self._request.infer({0: inputs}, share_inputs=True)
            return self._outputs()

    def start_async(self, inputs: np.ndarray) -> None:
        """Start inference on preprocessed ``inputs``; ``wait()`` returns its outputs."""
        with self._lock:
            if self._pending is not None:
                raise RuntimeError(f'{self.role}: start_async called twice without wait()')
            # OpenVINO may read the array until the request finishes: keep it alive and intact.
            self._pending = np.ascontiguousarray(inputs)
            self._request.start_async({0: self._pending}, share_inputs=True)

    def wait(self) -> Dict[str, np.ndarray]:
        """Wait for the inference started by ``start_async``; outputs by name (copies)."""
        with self._lock:
            if self._pending is None:
                raise RuntimeError(f'{self.role}: wait() without start_async')
            self._request.wait()
            self._pending = None
            return self._outputs()

    def _outputs(self) -> Dict[str, np.ndarray]:
        return {name: self._request.get_tensor(name).data.copy() for name in self._output_names}


def check_frame(frame) -> np.ndarray:
    """Return ``frame`` as HxWx3 uint8 BGR (gray HxW converted); ValueError otherwise."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f'frame must be a numpy array (HxWx3 uint8 BGR), got {type(frame)}')
    if frame.dtype != np.uint8:
        raise ValueError(f'frame must be uint8 (HxWx3 BGR or HxW gray), got {frame.dtype}')
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f'frame must be HxWx3 uint8 BGR or HxW gray, got shape {frame.shape}')
    return frame


class FaceDetector(_Wrapper):
    """
    An SSD-style OMZ face detector (one input, one [1, 1, N, 7] output).

    The compiled model takes u8 NHWC BGR and converts it to f32 NCHW itself. The resize to the
    model's input is, by default, OpenCV's u8 ``cv2.resize`` on the host (0.1-0.2 ms): measured
    1.3-3.8 ms per frame faster on a 2-core CPU than OpenVINO's resize inside the compiled
    model (docs/models.md). ``resize_in_model=True`` moves the resize into the model instead
    (frames of any size go in as they are), which may pay off on GPU/NPU devices.
    """

    role = 'face detector'

    def __init__(self, xml_path, device: str = 'CPU', performance_hint: str = 'LATENCY',
                 resize_in_model: bool = False):
        """Load, check and compile ``xml_path`` (ModelError when unfit)."""
        self.resize_in_model = resize_in_model
        super().__init__(xml_path, device, performance_hint)

    def _check(self, model):
        detections = [o for o in model.outputs
                      if len(_static_dims(o)) == 4 and _static_dims(o)[-1] == DETECTION_ROW
                      and _static_dims(o)[:2] == (1, 1)]
        inputs = [i for i in model.inputs if len(_static_dims(i)) == 4]
        if len(model.inputs) != 1 or len(inputs) != 1 or len(detections) != 1:
            raise ModelError(
                f'{self.path} is not a face detector: expected one input [1,3,H,W] and an output '
                f'[1,1,N,7], found inputs [{", ".join(_describe(model.inputs))}] and outputs '
                f'[{", ".join(_describe(model.outputs))}]')
        self.input_name = inputs[0].get_any_name()
        self.output_name = detections[0].get_any_name()
        _, channels, self.input_height, self.input_width = _static_dims(inputs[0])
        if channels != 3:
            raise ModelError(f'{self.path} is not a face detector: expected a 3-channel input, '
                             f'found {_describe(model.inputs)[0]}')

    def _prepare(self, model):
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_element_type(Type.u8).set_layout(Layout('NHWC'))
        if self.resize_in_model:
            ppp.input().tensor().set_spatial_dynamic_shape()
            ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR)
        ppp.input().model().set_layout(Layout('NCHW'))
        self._output_names = (self.output_name,)
        return ppp.build()

    def preprocess(self, frame: np.ndarray) -> np.ndarray:
        """Return the 1xHxWx3 u8 model input for a HxWx3 u8 BGR frame."""
        if self.resize_in_model:
            return np.ascontiguousarray(frame)[None]
        size = (self.input_width, self.input_height)
        return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)[None]

    def postprocess(self, outputs: Dict[str, np.ndarray], frame_size: Tuple[int, int],
                    threshold: float, max_faces: int) -> List[Face]:
        """
        Turn detector rows into faces in frame pixels.

        Stops at the first row with a negative image_id (padding), keeps conf >= threshold,
        scales to ``frame_size`` = (width, height), clamps to the frame, drops empty boxes and
        keeps the ``max_faces`` best scores, best first.
        """
        width, height = frame_size
        rows = outputs[self.output_name].reshape(-1, DETECTION_ROW)
        end = np.flatnonzero(rows[:, 0] < 0)
        if end.size:
            rows = rows[:end[0]]
        rows = rows[rows[:, 2] >= threshold]
        boxes = rows[:, 3:7].astype(np.float64) * (width, height, width, height)
        np.clip(boxes, 0.0, (width, height, width, height), out=boxes)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[keep], np.clip(rows[keep, 2].astype(np.float64), 0.0, 1.0)
        order = np.argsort(-scores, kind='stable')[:max_faces]
        return [Face(*boxes[i].tolist(), score=float(scores[i])) for i in order]

    def detect(self, frame: np.ndarray, threshold: float = 0.5,
               max_faces: int = 20) -> List[Face]:
        """Detect faces in a HxWx3 u8 BGR frame (synchronous)."""
        frame = check_frame(frame)
        outputs = self.infer(self.preprocess(frame))
        return self.postprocess(outputs, (frame.shape[1], frame.shape[0]), threshold, max_faces)


class AttributeModel(_Wrapper):
    """
    A 1x3xHxW face model run on the crops of all faces of a frame in one inference.

    One class per model: ``key`` is that of its attributes.ModelSpec, which names its
    parameters (``<key>``, ``<key>_precisions``, ``min_face_size_<key>``) and its OMZ name;
    ``crop`` says which box it wants (``'roi'``: the box squared and scaled by ``roi_scale``;
    ``'tight'``: the detector's box); ``outputs`` binds each logical output to the first port
    name found among its candidates with the given number of values per face (an empty tuple
    of names binds by that count alone, for models whose port names are numbers);
    ``postprocess`` turns a batch into Face field values.
    """

    key = ''
    crop = 'roi'
    # Every subclass with a key, by key (__init_subclass__): attributes.MODELS orders them.
    by_key: Dict[str, type] = {}
    # Batches smaller than this are padded with copies of their last crop (see LandmarksModel).
    min_batch = 1
    # {logical output: (accepted port names, values per face)}
    outputs: Dict[str, Tuple[Tuple[str, ...], int]] = {}

    def __init_subclass__(cls, **kwargs):
        """Register a wrapper under its ``key``, which attributes.MODELS must declare."""
        super().__init_subclass__(**kwargs)
        if cls.key:
            if cls.key not in MODELS_BY_KEY:
                raise TypeError(f'{cls.__name__}.key {cls.key!r} is not declared in '
                                'attributes.MODELS')
            AttributeModel.by_key[cls.key] = cls

    def _check(self, model):
        inputs = [_static_dims(i) for i in model.inputs]
        good_input = len(inputs) == 1 and len(inputs[0]) == 4 and inputs[0][:2] == (1, 3)
        self._bound: Dict[str, str] = {}
        for logical, (names, count) in self.outputs.items():
            ports = [p for p in model.outputs
                     if int(np.prod(_static_dims(p)[1:] or (-1,))) == count
                     and (not names or set(names) & p.get_names())]
            if len(ports) == 1 or (names and ports):
                port = ports[0]
                self._bound[logical] = next((n for n in names if n in port.get_names()),
                                            port.get_any_name())
        if not (good_input and len(self._bound) == len(self.outputs)):
            wanted = ' and '.join(
                (' or '.join(repr(n) for n in names) if names else 'one output')
                + f' ({count} values)' for names, count in self.outputs.values())
            article = 'an' if self.role[0] in 'aeiou' else 'a'
            raise ModelError(
                f'{self.path} is not {article} {self.role} model: expected one input [1,3,H,W] '
                f'and outputs {wanted}, found inputs [{", ".join(_describe(model.inputs))}] '
                f'and outputs [{", ".join(_describe(model.outputs))}]')
        self.input_height, self.input_width = inputs[0][2], inputs[0][3]

    def _prepare(self, model):
        # A dynamic batch measured faster than a fixed batch padded to 4 or 8 for 1..8 faces
        # on a 2-core CPU (docs/models.md), and it never computes padding.
        port = model.input(0)
        model.reshape({port.get_any_name(): PartialShape(
            [-1, 3, self.input_height, self.input_width])})
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_element_type(Type.u8).set_layout(Layout('NHWC'))
        ppp.input().model().set_layout(Layout('NCHW'))
        self._output_names = tuple(self._bound.values())
        return ppp.build()

    def preprocess(self, frame: np.ndarray, crops: Sequence[Tuple[int, int, int, int]]
                   ) -> np.ndarray:
        """
        Cut and resize every crop into one (B, H, W, 3) u8 batch.

        ``crops`` are integer (x0, y0, x1, y1) pixel boxes inside ``frame`` with positive size.
        """
        crops = list(crops)
        crops += crops[-1:] * (self.min_batch - len(crops))
        batch = np.empty((len(crops), self.input_height, self.input_width, 3), np.uint8)
        size = (self.input_width, self.input_height)
        for i, (x0, y0, x1, y1) in enumerate(crops):
            cv2.resize(frame[y0:y1, x0:x1], size, dst=batch[i],
                       interpolation=cv2.INTER_LINEAR)
        return batch

    def run(self, frame: np.ndarray, crops) -> List[Dict[str, object]]:
        """Preprocess, infer and postprocess the crops of one frame (synchronous)."""
        if not len(crops):
            return []
        return self.postprocess(self.infer(self.preprocess(frame, crops)), crops)

    def output(self, outputs: Dict[str, np.ndarray], logical: str, faces: int) -> np.ndarray:
        """Return one logical output of the first ``faces`` crops as (faces, values per face)."""
        return outputs[self._bound[logical]].reshape(-1, self.outputs[logical][1])[:faces]

    def postprocess(self, outputs: Dict[str, np.ndarray], crops) -> List[Dict[str, object]]:
        """Return, per face of the batch, the Face fields this model sets."""
        raise NotImplementedError


class AgeGenderModel(AttributeModel):
    """age-gender-recognition-retail-0013: age in years and (female, male) probabilities."""

    role = 'age-gender'
    key = 'age_gender'
    outputs = {'age': (('age_conv3',), 1), 'gender': (('prob',), 2)}

    def postprocess(self, outputs, crops) -> List[Dict[str, object]]:
        """Return [{'age': years, 'gender': (p_female, p_male)}] per crop."""
        # The model outputs age / 100.
        ages = np.clip(self.output(outputs, 'age', len(crops)).reshape(-1) * 100.0, 0.0, 150.0)
        genders = self.output(outputs, 'gender', len(crops))
        return [{'age': float(a), 'gender': (float(g[0]), float(g[1]))}
                for a, g in zip(ages, genders)]


class EmotionsModel(AttributeModel):
    """emotions-recognition-retail-0003: (neutral, happy, sad, surprise, anger) probabilities."""

    role = 'emotions'
    key = 'emotions'
    outputs = {'emotion': (('prob_emotion',), 5)}

    def postprocess(self, outputs, crops) -> List[Dict[str, object]]:
        """Return [{'emotion': 5 probabilities}] per crop."""
        return [{'emotion': tuple(float(v) for v in row)}
                for row in self.output(outputs, 'emotion', len(crops))]


class HeadPoseModel(AttributeModel):
    """
    head-pose-estimation-adas-0001: (yaw, pitch, roll) in degrees, OMZ's convention.

    The 2022.3 files name the outputs ``angle_y_fc``, ``angle_p_fc``, ``angle_r_fc``; OMZ's
    current release ``fc_y``, ``fc_p``, ``fc_r``: both are accepted. It gets the same squared,
    ``roi_scale``-enlarged crop as age-gender and emotions, as OMZ's
    interactive_face_detection demo gives it (docs/models.md has the measurement).
    """

    role = 'head-pose'
    key = 'head_pose'
    outputs = {'yaw': (('angle_y_fc', 'fc_y'), 1), 'pitch': (('angle_p_fc', 'fc_p'), 1),
               'roll': (('angle_r_fc', 'fc_r'), 1)}

    def postprocess(self, outputs, crops) -> List[Dict[str, object]]:
        """Return [{'head_pose': (yaw, pitch, roll)}] per crop."""
        angles = np.hstack([self.output(outputs, a, len(crops)) for a in HEAD_POSE_ANGLES])
        # Far outside the trained ranges (|angle| <= 90) already; only keeps Face valid.
        angles = np.clip(angles.astype(np.float64), -180.0, 180.0)
        return [{'head_pose': tuple(float(v) for v in row)} for row in angles]


class LandmarksModel(AttributeModel):
    """
    landmarks-regression-retail-0009: five points in LANDMARK_NAMES order, in frame pixels.

    Wants the detector's tight box. Its port names are numbers that may change between
    releases, so the output is bound by its shape (10 values per face).
    """

    role = 'landmarks'
    key = 'landmarks'
    crop = 'tight'
    # Compiled with a dynamic batch, OpenVINO 2026's CPU plugin gets a batch of one wrong for
    # this model (every point off by up to 0.11 of the crop; batches of 2 and more are exact,
    # measured against the static model): one face goes in twice.
    min_batch = 2
    outputs = {'points': ((), 2 * len(LANDMARK_NAMES))}

    def postprocess(self, outputs, crops) -> List[Dict[str, object]]:
        """Return [{'landmarks': five (x, y)}] per crop: crop-relative 0..1 -> frame pixels."""
        points = self.output(outputs, 'points', len(crops)).reshape(-1, len(LANDMARK_NAMES), 2)
        crops = np.asarray(crops, np.float64).reshape(-1, 4)
        origin = crops[:, None, :2]
        size = crops[:, None, 2:] - crops[:, None, :2]
        pixels = origin + points.astype(np.float64) * size
        return [{'landmarks': tuple((float(x), float(y)) for x, y in face)} for face in pixels]


def _model_classes() -> Tuple[type, ...]:
    missing = [m.key for m in MODELS if m.in_pipeline and m.key not in AttributeModel.by_key]
    if missing:
        raise TypeError(f'attributes.MODELS declares {missing} without an AttributeModel '
                        'subclass of that key')
    return tuple(AttributeModel.by_key[m.key] for m in MODELS if m.in_pipeline)


# Every attribute model the pipeline runs, in the order it starts them (attributes.MODELS').
# Adding a model is its ModelSpec and Attributes in attributes.py and one class above
# (docs/attributes.md).
ATTRIBUTE_MODEL_CLASSES = _model_classes()
