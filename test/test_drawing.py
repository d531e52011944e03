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

"""Annotated images on real photos: boxes, labels, blur and pixelate, input never touched."""

from facesense_ros import attributes, drawing, sample_frames
from facesense_ros.face import Face
from facesense_ros.face_geometry import FacePosition, SOURCE_DEPTH, SOURCE_MONOCULAR
import numpy as np
import pytest

# Mean absolute change (0..255) the astronaut's hidden face must show at least: a face that
# changes less than this still shows its features.
MIN_HIDDEN_CHANGE = 20.0
# On other faces the change is scaled by the face's own contrast (its pixel standard
# deviation): a flat, dark face cannot change by 20 however well it is hidden.
MIN_HIDDEN_CHANGE_PER_STD = 0.25
# The astronaut's face as face-detection-0102 finds it (sample_frames uses the same box).
ASTRONAUT_BOX = (180.0, 59.0, 270.0, 179.0)
# What head-pose-estimation-adas-0001 and landmarks-regression-retail-0009 say for that box.
ASTRONAUT_POSE = (-2.0, 11.3, 1.3)
ASTRONAUT_LANDMARKS = ((204.7, 100.5), (246.8, 103.3), (224.9, 127.7), (203.2, 139.4),
                       (245.3, 141.5))


def _face(box, **attributes):
    return Face(*box, score=0.99, **attributes)


def _untouched_mask(shape, faces):
    """Mark with True where annotate() must leave the input's pixels as they were."""
    mask = np.ones(shape[:2], bool)
    for face in faces:
        for rect in (drawing.box_rect(face, shape), drawing.label_rect(face, shape)):
            if rect is not None:
                x0, y0, x1, y1 = rect
                mask[y0:y1, x0:x1] = False
    return mask


def _frame_faces():
    frame, boxes = sample_frames.compose_frame(3, size=(640, 480), face_px=(80, 160), seed=3)
    faces = [_face(box, age=30.0 + 10 * i, gender=(0.2, 0.8),
                   emotion=(0.1, 0.6, 0.1, 0.1, 0.1), track_id=i + 1)
             for i, box in enumerate(boxes)]
    return frame, faces


def test_format_label_leaves_out_unknown_parts():
    box = (10.0, 10.0, 50.0, 60.0)
    full = _face(box, age=34.4, gender=(0.9, 0.1), emotion=(0.1, 0.7, 0.1, 0.05, 0.05),
                 track_id=3)
    assert drawing.format_label(full) == '#3 F 34 happy'
    assert drawing.format_label(_face(box, age=61.6, gender=(0.3, 0.7))) == 'M 62'
    assert drawing.format_label(_face(box, emotion=(0.0, 0.0, 0.0, 0.0, 1.0))) == 'anger'
    assert drawing.format_label(_face(box, track_id=0)) == '#0'
    assert drawing.format_label(_face(box)) == ''
    # The position attribute (the node's 3D position) ends the label with its distance.
    position = FacePosition((0.5, 0.0, 2.256), (0.01, 0.01, 0.01), SOURCE_DEPTH)
    assert drawing.format_label(full.with_attributes(position=position)) == \
        '#3 F 34 happy 2.31 m'


def test_distance_widens_the_label_and_is_drawn_there_only():
    image = np.full((240, 320, 3), 128, np.uint8)
    face = _face((100.0, 100.0, 180.0, 200.0), track_id=3)
    located = face.with_attributes(position=FacePosition((0.0, 0.0, 2.31), (0.01, 0.01, 0.3),
                                                         SOURCE_MONOCULAR))
    plain = drawing.annotate(image, [face])
    noted = drawing.annotate(image, [located])
    x0, y0, x1, y1 = drawing.label_rect(located, image.shape)
    assert x1 - x0 > drawing.label_rect(face, image.shape)[2] - x0
    assert not np.array_equal(plain[y0:y1, x0:x1], noted[y0:y1, x0:x1])
    # Outside the box and the label, nothing changes.
    outside = np.ones(image.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    outside[100:200, 100:180] = False
    assert np.array_equal(noted[outside], image[outside])


def test_annotate_draws_inside_boxes_and_labels_only():
    image = sample_frames.astronaut()
    before = image.copy()
    faces = [
        _face(ASTRONAUT_BOX, age=34.0, gender=(0.9, 0.1), track_id=3),
        # At the top border: the label must go inside the box.
        _face((400.0, 0.0, 480.0, 90.0), emotion=(0.1, 0.7, 0.1, 0.05, 0.05), track_id=4),
        # At the right border: the label must be moved left to stay in the image.
        _face((470.0, 300.0, 512.0, 380.0), age=70.0, gender=(0.1, 0.9),
              emotion=(0.7, 0.1, 0.1, 0.05, 0.05), track_id=12345),
    ]
    out = drawing.annotate(image, faces)
    assert np.array_equal(image, before), 'annotate modified its input'
    assert out.shape == image.shape and out.dtype == np.uint8
    changed = np.any(out != image, axis=2)
    assert not changed[_untouched_mask(image.shape, faces)].any(), \
        'pixels outside boxes and labels changed'
    for face in faces:
        x0, y0, x1, y1 = drawing.box_rect(face, image.shape)
        # The box outline: its top-left corner pixel is drawn.
        assert changed[y0, x0], f'no box drawn for {face.box}'
        lx0, ly0, lx1, ly1 = drawing.label_rect(face, image.shape)
        assert 0 <= lx0 < lx1 <= image.shape[1] and 0 <= ly0 < ly1 <= image.shape[0]
        assert changed[ly0:ly1, lx0:lx1].mean() > 0.5, 'label background not drawn'
    above, top_border, right_border = (drawing.label_rect(f, image.shape) for f in faces)
    assert above[3] == int(ASTRONAUT_BOX[1]), 'label should sit right above the box'
    assert top_border[1] == 0, 'label at the top border should start inside the box'
    assert right_border[2] <= image.shape[1] and right_border[0] < 470


def test_text_scales_with_image_size():
    face = _face((10.0, 100.0, 60.0, 160.0), age=40.0, track_id=1)
    small = drawing.label_rect(face, (240, 320, 3))
    large = drawing.label_rect(face, (1080, 1920, 3))
    assert (large[3] - large[1]) > 2 * (small[3] - small[1])


def _with_geometry(face, shift=(0.0, 0.0), head_pose=ASTRONAUT_POSE):
    """Return ``face`` with the astronaut's head pose and landmarks moved into its box."""
    scale_x = face.width / (ASTRONAUT_BOX[2] - ASTRONAUT_BOX[0])
    scale_y = face.height / (ASTRONAUT_BOX[3] - ASTRONAUT_BOX[1])
    points = tuple((face.x_min + (x - ASTRONAUT_BOX[0]) * scale_x + shift[0],
                    face.y_min + (y - ASTRONAUT_BOX[1]) * scale_y + shift[1])
                   for x, y in ASTRONAUT_LANDMARKS)
    return face.with_attributes(head_pose=head_pose, landmarks=points)


def test_head_pose_axes_and_landmarks_drawn_inside_the_box():
    image = sample_frames.astronaut()
    plain_face = _face(ASTRONAUT_BOX, age=34.0, gender=(0.9, 0.1), track_id=3)
    face = _with_geometry(plain_face, head_pose=(40.0, 10.0, 5.0))
    out = drawing.annotate(image, [face])
    plain = drawing.annotate(image, [plain_face])
    changed = np.any(out != image, axis=2)
    assert not changed[_untouched_mask(image.shape, [face])].any()
    # Every landmark is a white dot.
    for x, y in face.landmarks:
        assert tuple(out[int(round(y)), int(round(x))]) == attributes.LANDMARK_COLOR
    # The axes: red, green and blue pixels that the plain annotation does not have, starting
    # at the nose tip. Yaw 40 turns the face's normal (blue) towards the image's right.
    differs = np.any(out != plain, axis=2)
    x0, y0, x1, y1 = drawing.box_rect(face, image.shape)
    nose_x = face.landmarks[2][0]
    for color in attributes.AXIS_COLORS:
        ys, xs = np.nonzero(differs & np.all(out == color, axis=2))
        assert len(xs) >= 10, f'axis {color} not drawn'
        assert (x0 <= xs).all() and (xs < x1).all() and (y0 <= ys).all() and (ys < y1).all()
        if color == attributes.AXIS_COLORS[2]:
            assert xs.mean() > nose_x + 5
    # A face without either is drawn exactly as before.
    assert np.array_equal(drawing.annotate(image, [plain_face]), plain)
    # Points or axes reaching beyond the box are clipped to it.
    wild = _with_geometry(plain_face, shift=(80.0, 0.0), head_pose=(85.0, 60.0, 30.0))
    wild_out = drawing.annotate(image, [wild])
    assert not np.any(wild_out != image, axis=2)[_untouched_mask(image.shape, [wild])].any()


@pytest.mark.parametrize('mode', ['blur', 'pixelate'])
def test_privacy_hides_all_face_geometry(mode):
    image, faces = _frame_faces()
    faces = [_with_geometry(f) for f in faces]
    bare = [f.with_attributes(head_pose=None, landmarks=None) for f in faces]
    # With privacy off, the axes and the five points are drawn: the faces have them to show.
    assert not np.array_equal(drawing.annotate(image, faces), drawing.annotate(image, bare))
    out = drawing.annotate(image, faces, privacy_mode=mode)
    hidden = drawing.hide_faces(image, faces, mode)
    # Hidden: exactly the hidden image with boxes and labels, no axes, no landmark dots.
    assert np.array_equal(out, drawing.annotate(hidden, bare))
    for face in faces:
        x0, y0, x1, y1 = drawing.box_rect(face, image.shape)
        inner = np.zeros(image.shape[:2], bool)
        inner[y0 + 4:y1 - 4, x0 + 4:x1 - 4] = True
        label = drawing.label_rect(face, image.shape)
        inner[label[1]:label[3], label[0]:label[2]] = False
        # Inside the outline and outside the label, every pixel is the hidden face's: the
        # landmarks' places (eyes, nose tip, mouth corners) included.
        assert np.array_equal(out[inner], hidden[inner])
        for x, y in face.landmarks:
            assert np.array_equal(out[int(y), int(x)], hidden[int(y), int(x)])
        change = np.abs(out[inner].astype(np.int16) - image[inner]).mean()
        contrast = float(image[y0:y1, x0:x1].std())
        assert change > MIN_HIDDEN_CHANGE_PER_STD * contrast, (change, contrast)


@pytest.mark.parametrize('mode', ['blur', 'pixelate'])
def test_privacy_hides_real_faces(mode):
    cases = ((sample_frames.astronaut(), [_face(ASTRONAUT_BOX, track_id=1)], True),
             _frame_faces() + (False,))
    for image, faces, astronaut in cases:
        before = image.copy()
        out = drawing.annotate(image, faces, privacy_mode=mode)
        assert np.array_equal(image, before), 'annotate modified its input'
        hidden = drawing.hide_faces(image, faces, mode)
        for face in faces:
            x0, y0, x1, y1 = drawing.box_rect(face, image.shape)
            change = np.abs(hidden[y0:y1, x0:x1].astype(np.int16) - image[y0:y1, x0:x1]).mean()
            contrast = float(image[y0:y1, x0:x1].std())
            print(f'{mode}: face {face.track_id} {x1 - x0}x{y1 - y0} px, mean change '
                  f'{change:.1f}, contrast {contrast:.1f}')
            if astronaut:
                assert change > MIN_HIDDEN_CHANGE
            else:
                assert change > MIN_HIDDEN_CHANGE_PER_STD * contrast
            # What annotate returns is hidden too, apart from the drawn outline and label.
            label = drawing.label_rect(face, image.shape)
            inner = np.zeros(image.shape[:2], bool)
            inner[y0 + 4:y1 - 4, x0 + 4:x1 - 4] = True
            inner[label[1]:label[3], label[0]:label[2]] = False
            assert np.array_equal(out[inner], hidden[inner])
        outside = _untouched_mask(image.shape, faces)
        assert np.array_equal(out[outside], image[outside]), 'pixels outside faces changed'
        # Labels stay readable on top of the hidden faces.
        plain = drawing.annotate(image, faces)
        for face in faces:
            lx0, ly0, lx1, ly1 = drawing.label_rect(face, image.shape)
            assert np.array_equal(out[ly0:ly1, lx0:lx1], plain[ly0:ly1, lx0:lx1])


def test_privacy_off_and_bad_input():
    image, faces = _frame_faces()
    assert np.array_equal(drawing.hide_faces(image, faces, 'off'), image)
    with pytest.raises(drawing.DrawingError, match='privacy_mode'):
        drawing.annotate(image, faces, privacy_mode='mosaic')
    with pytest.raises(drawing.DrawingError, match='HxWx3 uint8'):
        drawing.annotate(image[..., 0], faces)
    # No faces: an equal copy, not the same array.
    out = drawing.annotate(image, [])
    assert np.array_equal(out, image) and out is not image


def test_hidden_boxes_are_hidden_without_labels():
    image, faces = _frame_faces()
    shown, missed = faces[:2], faces[2]
    # A missed face (hidden_boxes), plus a predicted box entirely outside the image.
    outside = (-200.0, -200.0, -100.0, -100.0)
    out = drawing.annotate(image, shown, 'blur', hidden_boxes=[missed.box, outside])
    x0, y0, x1, y1 = drawing.box_rect(missed, image.shape)
    hidden = drawing.hide_faces(image, [missed], 'blur')
    # Exactly the blurred face: no outline, no label drawn for it.
    assert np.array_equal(out[y0:y1, x0:x1], hidden[y0:y1, x0:x1])
    assert not np.array_equal(out[y0:y1, x0:x1], image[y0:y1, x0:x1])
    untouched = _untouched_mask(image.shape, faces)
    assert np.array_equal(out[untouched], image[untouched])
    # With privacy off nothing is hidden.
    plain = drawing.annotate(image, shown, 'off', hidden_boxes=[missed.box])
    assert np.array_equal(plain[y0:y1, x0:x1], image[y0:y1, x0:x1])
