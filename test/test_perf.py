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
How FacePipeline spreads its models over the CPUs (the speed figures are in bench/NOTES.md).

No timing here (the machine is shared and noisy): what is checked is the compiled models'
configuration, and that running the attribute models side by side changes no result.
"""

# ament_flake8 knows no application names: every non-stdlib import is one alphabetical group.
from facesense_ros import sample_frames
from facesense_ros.config import PipelineConfig
from facesense_ros.models import AgeGenderModel, EmotionsModel, usable_cpus
from facesense_ros.pipeline import crop_boxes, FacePipeline
import pytest


@pytest.fixture(scope='module')
def pipeline(model_dir):
    # Every face gets every attribute, whatever its size.
    return FacePipeline(PipelineConfig(min_face_size_age_gender=0, min_face_size_emotions=0,
                                       head_pose=False, landmarks=False),
                        model_dir=model_dir)


def _threads(model):
    return model.compiled.get_property('INFERENCE_NUM_THREADS')


def test_attribute_models_share_the_cpus(pipeline):
    half = max(1, usable_cpus() // 2)
    assert set(pipeline.attribute_models) == {'age_gender', 'emotions'}
    for model in pipeline.attribute_models.values():
        assert _threads(model) == half
        # Free to move, or two single-thread models could end up on the same core.
        assert not model.compiled.get_property('ENABLE_CPU_PINNING')
    # The detector runs alone: OpenVINO's own choice for LATENCY, every core.
    assert _threads(pipeline.detector) >= half


def test_four_attribute_models_share_the_cpus_four_ways(model_dir):
    four = FacePipeline(PipelineConfig(head_pose=True, landmarks=True), model_dir=model_dir)
    assert list(four.attribute_models) == ['age_gender', 'emotions', 'head_pose', 'landmarks']
    for model in four.attribute_models.values():
        assert _threads(model) == max(1, usable_cpus() // 4)


def test_a_single_attribute_model_keeps_every_core(model_dir, pipeline):
    alone = FacePipeline(PipelineConfig(emotions=False, head_pose=False, landmarks=False),
                         model_dir=model_dir)
    assert list(alone.attribute_models) == ['age_gender']
    assert _threads(alone.attribute_models['age_gender']) == _threads(pipeline.detector)


def test_side_by_side_gives_the_sequential_results(pipeline):
    frame, _ = sample_frames.compose_frame(4, face_px=(80, 160), seed=2)
    faces = pipeline.process(frame)
    assert len(faces) == 4 and all(f.age is not None and f.emotion is not None for f in faces)
    # Default-threaded models, one after the other: the same numbers.
    age_gender = AgeGenderModel(pipeline.attribute_models['age_gender'].path)
    emotions = EmotionsModel(pipeline.attribute_models['emotions'].path)
    crops = crop_boxes(faces, (frame.shape[1], frame.shape[0]), pipeline.config.roi_scale)
    for face, ag, em in zip(faces, age_gender.run(frame, crops), emotions.run(frame, crops)):
        assert face.age == pytest.approx(ag['age'], abs=0.5)
        assert face.gender == pytest.approx(ag['gender'], abs=0.01)
        assert face.emotion == pytest.approx(em['emotion'], abs=0.01)
