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
Pure functions between numpy images / Face results and ROS messages, and a decoder for consumers.

The Detection2D convention (docs/interfaces.md):

* ``bbox`` center and size in pixels of the input image; ``id`` = str(track_id), or the face's
  index in the frame when tracking is off.
* ``results``: one ObjectHypothesisWithPose per class, its ``pose.pose.position`` = bbox center:
  ``face`` (detector score), ``gender:female`` and ``gender:male`` (probabilities summing to 1),
  ``emotion:neutral|happy|sad|surprise|anger`` (summing to 1), ``age`` with score = years / 100.
* With a head pose: the ``face`` hypothesis's ``pose.pose.orientation`` is the head's rotation
  in the camera optical frame (face_geometry.head_pose_quaternion), and ``attention:looking``
  scores how frontal the face is (attributes.attention_score; >= 0.5: looking at the camera).
* With landmarks: ``landmark:<name>`` per point of LANDMARK_NAMES, ``pose.pose.position`` = the
  point in pixels (z 0), score 1 (the model gives no confidence).
* With identity: ``identity:person`` (confidence), ``identity:person_id`` (id / 2**32) and, for
  a named person, ``identity:name:<name>`` (confidence); label_info lists the gallery's names.
  An attribute that was not computed has no hypotheses at all. Hypotheses come in class_id
  order (CLASSES); each attribute's are encoded and decoded by its declaration in
  attributes.ATTRIBUTES, and the decoder returns FaceRecord, a face.Face.
"""

from dataclasses import dataclass, field, fields
import threading
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from facesense_ros.attributes import (AGE_CLASS, ATTENTION_CLASS, ATTRIBUTES,
                                      DEFAULT_ATTENTION_LIMITS, EMOTION_CLASSES, FACE_CLASS,
                                      GENDER_CLASSES, Hypothesis, LANDMARK_CLASSES,
                                      LOOKING_SCORE, name_class)
from facesense_ros.encodings import (check_size, DEFAULT_MAX_INPUT_PIXELS, ImageFormatError,
                                     jpeg_to_bgr, to_bgr)
from facesense_ros.face import Face
import numpy as np
from sensor_msgs.msg import Image
from vision_msgs.msg import (Detection2D, Detection2DArray, LabelInfo, ObjectHypothesisWithPose,
                             VisionClass)

# The classes of the first release, in their LabelInfo class_id order (position = id).
_FIRST_CLASSES = ((FACE_CLASS,) + GENDER_CLASSES + EMOTION_CLASSES + (AGE_CLASS, ATTENTION_CLASS)
                  + LANDMARK_CLASSES)
# Every class a Detection2D may carry; its position here is its LabelInfo class_id (stable:
# a new attribute's classes are appended, in attributes.ATTRIBUTES order).
CLASSES = _FIRST_CLASSES + tuple(c for a in ATTRIBUTES for c in a.classes
                                 if c not in _FIRST_CLASSES)
# The attributes that emit hypotheses, in the order of their first class in CLASSES: a
# Detection2D's results come in class_id order.
# VisionClass.class_id is a uint16.
MAX_CLASS_IDS = 2 ** 16
_ENCODED = tuple(sorted((a for a in ATTRIBUTES if a.encode is not None),
                        key=lambda a: CLASSES.index(a.classes[0])))
_ORIENTED = tuple(a for a in ATTRIBUTES if a.orientation is not None)
_DECODED = tuple(a for a in ATTRIBUTES if a.decode is not None)


def _cv_bridge_or_none():
    """Return a CvBridge that converts correctly here, or None (absent or broken install)."""
    try:
        from cv_bridge import CvBridge
        bridge = CvBridge()
        probe = Image(height=1, width=2, encoding='rgb8', step=6, is_bigendian=0)
        probe.data = bytes([1, 2, 3, 4, 5, 6])
        converted = bridge.imgmsg_to_cv2(probe, 'bgr8')
        if not np.array_equal(converted, [[[3, 2, 1], [6, 5, 4]]]):
            return None
        return bridge
    except (ImportError, AttributeError, RuntimeError, SystemError, TypeError, ValueError):
        # Absent, or built against another numpy/OpenCV: the numpy path does the same job.
        return None


_bridge_lock = threading.Lock()
_bridge_state = {'checked': False, 'bridge': None}


def _bridge():
    with _bridge_lock:
        if not _bridge_state['checked']:
            _bridge_state['bridge'] = _cv_bridge_or_none()
            _bridge_state['checked'] = True
        return _bridge_state['bridge']


def cv_bridge_in_use() -> bool:
    """Whether image_msg_to_bgr converts with cv_bridge (importable and working) here."""
    return _bridge() is not None


def image_msg_to_bgr(msg, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> np.ndarray:
    """
    Return a sensor_msgs/Image as an HxWx3 uint8 BGR array.

    Uses cv_bridge when it is importable and works, and encodings.to_bgr otherwise or for
    encodings that cv_bridge does not know (e.g. ``yuyv`` on Humble); both give the same
    pixels. Raises ImageFormatError for an unsupported encoding or inconsistent geometry, and
    OversizedImageError, before any conversion, for more than ``max_pixels`` pixels.
    """
    check_size(msg.encoding, msg.width, msg.height, max_pixels)
    bridge = _bridge()
    if bridge is not None:
        try:
            return bridge.imgmsg_to_cv2(msg, 'bgr8')
        except (RuntimeError, TypeError, ValueError):
            # CvBridgeError is a TypeError; to_bgr converts what cv_bridge does not know, or
            # raises ImageFormatError with the reason.
            pass
    return to_bgr(msg.data, msg.encoding, msg.width, msg.height, msg.step,
                  is_bigendian=bool(msg.is_bigendian), max_pixels=max_pixels)


def compressed_msg_to_bgr(msg, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> np.ndarray:
    """
    Return a sensor_msgs/CompressedImage (JPEG or PNG) as BGR.

    The bytes decide, never ``format`` (untrusted, and image_transport writes several spellings:
    ``jpeg``, ``bgr8; jpeg compressed bgr8``, ``rgb8; compressed bgr8``): whatever it says,
    JPEG and PNG decode to BGR. Raises ImageFormatError when the data is neither, is corrupt,
    or declares more than ``max_pixels`` pixels (OversizedImageError, nothing decoded).
    """
    return jpeg_to_bgr(msg.data, max_pixels)


def bgr_to_image_msg(image: np.ndarray, header) -> Image:
    """Return a bgr8 sensor_msgs/Image of ``image`` with ``header`` (bytes copied in one go)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ImageFormatError(f'expected an HxWx3 uint8 BGR image, got {image.shape} '
                               f'{image.dtype}')
    height, width = image.shape[:2]
    msg = Image(header=header, height=height, width=width, encoding='bgr8', is_bigendian=0,
                step=width * 3)
    # tobytes() + one buffer copy into the message: ~0.1 ms for 640x480, where assigning a
    # memoryview or ndarray iterates per element in rosidl (~30-50 ms).
    msg.data = np.ascontiguousarray(image).tobytes()
    return msg


def _hypothesis(class_id: str, score: float, position: Tuple[float, float],
                orientation=None) -> ObjectHypothesisWithPose:
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id = class_id
    hyp.hypothesis.score = float(score)
    hyp.pose.pose.position.x, hyp.pose.pose.position.y = position
    if orientation is not None:
        o = hyp.pose.pose.orientation
        o.x, o.y, o.z, o.w = orientation
    return hyp


def face_to_detection(face: Face, header, index: int = 0,
                      attention_limits=DEFAULT_ATTENTION_LIMITS) -> Detection2D:
    """
    Return one Face as a Detection2D (id = track_id, or ``index`` without tracking).

    ``attention_limits`` are the (yaw, pitch) degrees of attention_score (the node passes its
    attention_yaw and attention_pitch parameters). Each computed attribute adds the hypotheses
    its declaration (attributes.ATTRIBUTES) encodes, in class_id order.
    """
    det = Detection2D(header=header)
    det.id = str(face.track_id if face.track_id is not None else index)
    center = tuple(float(c) for c in face.center)
    det.bbox.center.position.x, det.bbox.center.position.y = center
    det.bbox.size_x, det.bbox.size_y = float(face.width), float(face.height)
    orientation = next((a.orientation(face) for a in _ORIENTED
                        if getattr(face, a.field) is not None), None)
    det.results.append(_hypothesis(FACE_CLASS, face.score, center, orientation))
    for attribute in _ENCODED:
        if getattr(face, attribute.field) is not None:
            det.results.extend(_hypothesis(h.class_id, h.score, h.position or center,
                                           h.orientation)
                               for h in attribute.encode(face, attention_limits))
    return det


def faces_to_detections(faces: Sequence[Face], header,
                        attention_limits=DEFAULT_ATTENTION_LIMITS) -> Detection2DArray:
    """Return the faces of one frame as a Detection2DArray with ``header`` (empty if none)."""
    msg = Detection2DArray(header=header)
    msg.detections = [face_to_detection(face, header, index, attention_limits)
                      for index, face in enumerate(faces)]
    return msg


def label_info(header, threshold: float, names: Iterable[str] = ()) -> LabelInfo:
    """
    Return the LabelInfo that names every class id a Detection2D of ours may carry.

    ``names`` are the gallery's person names (identity on): each adds ``identity:name:<name>``
    after CLASSES, in sorted order, as far as VisionClass's uint16 class_id reaches.
    """
    msg = LabelInfo(header=header, threshold=float(threshold))
    named = tuple(name_class(n) for n in sorted(set(names)))
    classes = CLASSES + named[:MAX_CLASS_IDS - len(CLASSES)]
    msg.class_map = [VisionClass(class_id=i, class_name=name) for i, name in enumerate(classes)]
    return msg


@dataclass(frozen=True)
class FaceRecord(Face):
    """
    One face decoded from a Detection2D: the core's Face, plus what only the message carries.

    The Face fields are the decoded attributes (None when the node did not compute them);
    ``box`` is (x_min, y_min, x_max, y_max) in input-image pixels and ``track_id`` the id when
    it is a number. Added: ``id`` (the Detection2D id, a string), ``attention`` (the
    ``attention:looking`` score, computed by the node with its own limits) and ``labels``
    (every hypothesis's score by class id).
    """

    id: str = ''
    attention: Optional[float] = None
    labels: Dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def looking(self) -> Optional[bool]:
        """Whether the face looks at the camera (attention >= 0.5), or None without a pose."""
        return None if self.attention is None else self.attention >= LOOKING_SCORE

    def describe(self, attention: Optional[float] = None, face_id: Optional[str] = None) -> str:
        """Return the one-line description (Face's) with the message's id and attention."""
        return super().describe(self.attention if attention is None else attention,
                                self.id if face_id is None else face_id)

    def to_face(self) -> Face:
        """Return the plain Face (the fields of Face only)."""
        return Face(**{f.name: getattr(self, f.name) for f in fields(Face)})

    def to_dict(self) -> dict:
        """Plain types for JSON: id, box, score, every attribute, labels, attention."""
        return {'id': self.id, 'box': self.box, 'score': self.score,
                **{a.field: getattr(self, a.field) for a in ATTRIBUTES},
                'labels': dict(self.labels), 'attention': self.attention}


def detection_to_face_record(det: Detection2D) -> FaceRecord:
    """
    Decode one Detection2D that follows the convention above.

    Each attribute of attributes.ATTRIBUTES decodes its own hypotheses. Raises ValueError
    (naming the detection) when the values are not a valid Face (an empty box, a score out of
    [0, 1]): such a message does not follow the convention.
    """
    hypotheses = {}
    for r in det.results:
        class_id = r.hypothesis.class_id
        pose = r.pose.pose
        position = pose.position
        # Only the face hypothesis's orientation means anything (the head pose): reading the
        # others' would cost a third of the decoding.
        orientation = pose.orientation if class_id == FACE_CLASS else None
        hypotheses[class_id] = Hypothesis(
            class_id, r.hypothesis.score, (position.x, position.y),
            None if orientation is None else (orientation.x, orientation.y, orientation.z,
                                              orientation.w))
    cx, cy = det.bbox.center.position.x, det.bbox.center.position.y
    half_w, half_h = det.bbox.size_x / 2.0, det.bbox.size_y / 2.0
    face = hypotheses.get(FACE_CLASS)
    attention = hypotheses.get(ATTENTION_CLASS)
    try:
        return FaceRecord(
            cx - half_w, cy - half_h, cx + half_w, cy + half_h,
            score=face.score if face is not None else 0.0,
            track_id=int(det.id) if det.id.isdigit() else None,
            id=det.id, attention=attention.score if attention is not None else None,
            labels={c: h.score for c, h in hypotheses.items()},
            **{a.field: a.decode(hypotheses) for a in _DECODED})
    except ValueError as e:
        raise ValueError(f'Detection2D {det.id!r} is not a face of ours: {e}') from e


def detections_to_records(msg: Detection2DArray) -> List[FaceRecord]:
    """Decode every Detection2D of a Detection2DArray (ValueError as for one)."""
    return [detection_to_face_record(det) for det in msg.detections]
