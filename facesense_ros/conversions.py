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
  in the camera optical frame (face.head_pose_quaternion), and ``attention:looking`` scores how
  frontal the face is (face.attention_score; >= 0.5: looking at the camera).
* With landmarks: ``landmark:<name>`` per point of LANDMARK_NAMES, ``pose.pose.position`` = the
  point in pixels (z 0), score 1 (the model gives no confidence).
  An attribute that was not computed has no hypotheses at all.
"""

from dataclasses import asdict, dataclass, field
import threading
from typing import Dict, List, Optional, Sequence, Tuple

from facesense_ros.config import PARAMETERS
from facesense_ros.encodings import (check_size, DEFAULT_MAX_INPUT_PIXELS, ImageFormatError,
                                     jpeg_to_bgr, to_bgr)
from facesense_ros.face import (EMOTION_LABELS, Face, GENDER_LABELS, head_pose_from_quaternion,
                                head_pose_quaternion, LANDMARK_NAMES, LOOKING_SCORE)
import numpy as np
from sensor_msgs.msg import Image
from vision_msgs.msg import (Detection2D, Detection2DArray, LabelInfo, ObjectHypothesisWithPose,
                             VisionClass)

FACE_CLASS = 'face'
AGE_CLASS = 'age'
GENDER_CLASSES = tuple(f'gender:{label}' for label in GENDER_LABELS)
EMOTION_CLASSES = tuple(f'emotion:{label}' for label in EMOTION_LABELS)
ATTENTION_CLASS = 'attention:looking'
LANDMARK_CLASSES = tuple(f'landmark:{name}' for name in LANDMARK_NAMES)
# Every class a Detection2D may carry; its position here is its LabelInfo class_id (stable:
# new classes are only ever appended).
CLASSES = ((FACE_CLASS,) + GENDER_CLASSES + EMOTION_CLASSES + (AGE_CLASS, ATTENTION_CLASS)
           + LANDMARK_CLASSES)
# The score of a landmark hypothesis: the model gives points, no confidence.
LANDMARK_SCORE = 1.0
# (yaw, pitch) limits of "looking at the camera" when the caller gives none: the parameters'.
DEFAULT_ATTENTION_LIMITS = (PARAMETERS['attention_yaw'].default,
                            PARAMETERS['attention_pitch'].default)
# Age travels as a score in [0, 1]: years / AGE_SCALE.
AGE_SCALE = 100.0


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


def _hypothesis(class_id: str, score: float, center: Tuple[float, float]):
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id = class_id
    hyp.hypothesis.score = float(score)
    hyp.pose.pose.position.x, hyp.pose.pose.position.y = center
    return hyp


def face_to_detection(face: Face, header, index: int = 0,
                      attention_limits=DEFAULT_ATTENTION_LIMITS) -> Detection2D:
    """
    Return one Face as a Detection2D (id = track_id, or ``index`` without tracking).

    ``attention_limits`` are the (yaw, pitch) degrees of attention_score (the node passes its
    attention_yaw and attention_pitch parameters).
    """
    det = Detection2D(header=header)
    det.id = str(face.track_id if face.track_id is not None else index)
    center = tuple(float(c) for c in face.center)
    det.bbox.center.position.x, det.bbox.center.position.y = center
    det.bbox.size_x, det.bbox.size_y = float(face.width), float(face.height)
    face_hyp = _hypothesis(FACE_CLASS, face.score, center)
    det.results.append(face_hyp)
    if face.head_pose is not None:
        orientation = face_hyp.pose.pose.orientation
        orientation.x, orientation.y, orientation.z, orientation.w = \
            head_pose_quaternion(*face.head_pose)
        det.results.append(_hypothesis(ATTENTION_CLASS, face.attention(*attention_limits),
                                       center))
    if face.landmarks is not None:
        det.results.extend(_hypothesis(c, LANDMARK_SCORE, point)
                           for c, point in zip(LANDMARK_CLASSES, face.landmarks))
    if face.gender is not None:
        det.results.extend(_hypothesis(c, p, center) for c, p in zip(GENDER_CLASSES, face.gender))
    if face.emotion is not None:
        det.results.extend(_hypothesis(c, p, center)
                           for c, p in zip(EMOTION_CLASSES, face.emotion))
    if face.age is not None:
        det.results.append(_hypothesis(AGE_CLASS, face.age / AGE_SCALE, center))
    return det


def faces_to_detections(faces: Sequence[Face], header,
                        attention_limits=DEFAULT_ATTENTION_LIMITS) -> Detection2DArray:
    """Return the faces of one frame as a Detection2DArray with ``header`` (empty if none)."""
    msg = Detection2DArray(header=header)
    msg.detections = [face_to_detection(face, header, index, attention_limits)
                      for index, face in enumerate(faces)]
    return msg


def label_info(header, threshold: float) -> LabelInfo:
    """Return the LabelInfo that names every class id a Detection2D of ours may carry."""
    msg = LabelInfo(header=header, threshold=float(threshold))
    msg.class_map = [VisionClass(class_id=i, class_name=name) for i, name in enumerate(CLASSES)]
    return msg


@dataclass(frozen=True)
class FaceRecord:
    """
    One face decoded from a Detection2D: what a consumer needs, typed.

    ``box`` is (x_min, y_min, x_max, y_max) in input-image pixels. ``gender`` is (female, male)
    and ``emotion`` (neutral, happy, sad, surprise, anger) probabilities; ``age`` in years;
    ``head_pose`` (yaw, pitch, roll) degrees; ``landmarks`` five (x, y) pixels in
    LANDMARK_NAMES order; ``attention`` the ``attention:looking`` score. Attributes the node
    did not compute are None. ``labels`` holds every hypothesis's score by class id.
    """

    id: str
    box: Tuple[float, float, float, float]
    score: float
    age: Optional[float] = None
    gender: Optional[Tuple[float, float]] = None
    emotion: Optional[Tuple[float, float, float, float, float]] = None
    labels: Dict[str, float] = field(default_factory=dict)
    head_pose: Optional[Tuple[float, float, float]] = None
    landmarks: Optional[Tuple[Tuple[float, float], ...]] = None
    attention: Optional[float] = None

    @property
    def looking(self) -> Optional[bool]:
        """Whether the face looks at the camera (attention >= 0.5), or None without a pose."""
        return None if self.attention is None else self.attention >= LOOKING_SCORE

    @property
    def center(self) -> Tuple[float, float]:
        """Return the box center as (x, y) pixels."""
        return ((self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0)

    @property
    def track_id(self) -> Optional[int]:
        """Return the id as an int when it is one (tracking ids and frame indices are)."""
        return int(self.id) if self.id.isdigit() else None

    @property
    def gender_label(self) -> Optional[str]:
        """More probable gender ('female' or 'male'), or None."""
        if self.gender is None:
            return None
        return GENDER_LABELS[0] if self.gender[0] >= self.gender[1] else GENDER_LABELS[1]

    @property
    def gender_score(self) -> Optional[float]:
        """Probability of gender_label, or None."""
        return None if self.gender is None else max(self.gender)

    @property
    def emotion_label(self) -> Optional[str]:
        """Most probable emotion, or None."""
        if self.emotion is None:
            return None
        return EMOTION_LABELS[int(np.argmax(self.emotion))]

    @property
    def emotion_score(self) -> Optional[float]:
        """Probability of emotion_label, or None."""
        return None if self.emotion is None else max(self.emotion)

    def describe(self) -> str:
        """
        One line: ``id=3 gender=female(0.93) age=34 emotion=happy(0.81)``.

        With head pose and landmarks: ``... yaw/pitch/roll=-2/11/1 looking=yes(0.76)
        landmarks=5``.
        """
        parts = [f'id={self.id}']
        if self.gender is not None:
            parts.append(f'gender={self.gender_label}({self.gender_score:.2f})')
        if self.age is not None:
            parts.append(f'age={self.age:.0f}')
        if self.emotion is not None:
            parts.append(f'emotion={self.emotion_label}({self.emotion_score:.2f})')
        if self.head_pose is not None:
            parts.append('yaw/pitch/roll=' + '/'.join(f'{a:.0f}' for a in self.head_pose))
            parts.append(f'looking={"yes" if self.looking else "no"}({self.attention:.2f})')
        if self.landmarks is not None:
            parts.append(f'landmarks={len(self.landmarks)}')
        return ' '.join(parts)

    def to_face(self) -> Face:
        """Return the record as a Face (track_id from the id when it is a number)."""
        return Face(*self.box, score=self.score, age=self.age, gender=self.gender,
                    emotion=self.emotion, track_id=self.track_id, head_pose=self.head_pose,
                    landmarks=self.landmarks)

    def to_dict(self) -> dict:
        """Plain types for JSON."""
        return asdict(self)


def detection_to_face_record(det: Detection2D) -> FaceRecord:
    """Decode one Detection2D that follows the convention above."""
    labels = {r.hypothesis.class_id: float(r.hypothesis.score) for r in det.results}
    cx, cy = det.bbox.center.position.x, det.bbox.center.position.y
    half_w, half_h = det.bbox.size_x / 2.0, det.bbox.size_y / 2.0
    gender = (tuple(labels[c] for c in GENDER_CLASSES)
              if all(c in labels for c in GENDER_CLASSES) else None)
    emotion = (tuple(labels[c] for c in EMOTION_CLASSES)
               if all(c in labels for c in EMOTION_CLASSES) else None)
    age = labels[AGE_CLASS] * AGE_SCALE if AGE_CLASS in labels else None
    head_pose = None
    # The face pose's orientation is a head pose only when attention:looking says so (without
    # one it is the message's default identity).
    face_hyp = next((r for r in det.results if r.hypothesis.class_id == FACE_CLASS), None)
    if ATTENTION_CLASS in labels and face_hyp is not None:
        q = face_hyp.pose.pose.orientation
        head_pose = head_pose_from_quaternion(q.x, q.y, q.z, q.w)
    points = {r.hypothesis.class_id: (r.pose.pose.position.x, r.pose.pose.position.y)
              for r in det.results if r.hypothesis.class_id in LANDMARK_CLASSES}
    landmarks = (tuple(points[c] for c in LANDMARK_CLASSES)
                 if len(points) == len(LANDMARK_CLASSES) else None)
    return FaceRecord(id=det.id, box=(cx - half_w, cy - half_h, cx + half_w, cy + half_h),
                      score=labels.get(FACE_CLASS, 0.0), age=age, gender=gender,
                      emotion=emotion, labels=labels, head_pose=head_pose,
                      landmarks=landmarks, attention=labels.get(ATTENTION_CLASS))


def detections_to_records(msg: Detection2DArray) -> List[FaceRecord]:
    """Decode every Detection2D of a Detection2DArray."""
    return [detection_to_face_record(det) for det in msg.detections]
