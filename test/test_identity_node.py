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
Identity over real processes: two nodes sharing one gallery, and this test as the consumer.

The consumer reads faces/detections (decoded with detections_to_records) and REP-155
/humans/candidate_matches, as hri_person_manager does. Frames are built from the real identity
photos; the nodes run as `ros2 run` starts them (config/facesense.yaml) with identity on.
"""

import os
from pathlib import Path

import command_line
import cv2
from facesense_ros.conversions import detections_to_records
from facesense_ros.identity import Identity
from facesense_ros.sample_frames import compose_frame, cut_face, paste_face
from hri_msgs.msg import IdsList, IdsMatch
import pytest
import rosutil
from rosutil import Diagnostics, Sender
from vision_msgs.msg import LabelInfo

tester = rosutil.module_tester('identity_test')
IDENTITIES = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'identities'
# Frames each camera sees a person for: EARLY_EMBEDDINGS (3) decide, a few more to publish.
FRAMES = 6


@pytest.fixture(scope='module')
def people(model_dir):
    """Face crops of three people, cut with the detector's box from their photos."""
    from facesense_ros.config import PipelineConfig
    from facesense_ros.pipeline import FacePipeline
    if not IDENTITIES.is_dir():
        pytest.fail(f'identity photos missing: {IDENTITIES}')
    pipeline = FacePipeline(PipelineConfig(age_gender=False, emotions=False),
                            model_dir=model_dir, download_missing=False)
    crops = {}
    for name, relative in (('obama', 'obama/1.jpg'), ('biden', 'biden/2.jpg'),
                           ('kit', 'kit_harington/1.jpg')):
        photo = cv2.imread(str(IDENTITIES / relative))
        face = max(pipeline.detect(photo), key=lambda f: f.width)
        crops[name] = cut_face(photo, face.box)
    return crops


def _frame(people, *placed):
    frame, _ = compose_frame(0, (640, 480))
    for name, center in placed:
        crop, box = people[name]
        paste_face(frame, crop, box, 150, center)
    return frame


@pytest.fixture(scope='module')
def database(tmp_path_factory):
    return tmp_path_factory.mktemp('gallery') / 'faces.db'


@pytest.fixture(scope='module')
def nodes(tester, model_dir, database):
    shared = {'identity': True, 'identity_database': str(database),
              'reliability': 'reliable'}
    with rosutil.nodes_running(tester, model_dir, {'/cam_a': shared,
                                                   '/cam_b': shared}) as running:
        yield running


def _identities(detections):
    return [r.identity for r in detections_to_records(detections)]


def test_two_cameras_share_one_gallery_and_a_consumer_reads_the_matches(
        tester, nodes, people, database):
    matches = tester.collect(IdsMatch, '/humans/candidate_matches')
    tracked = tester.collect(IdsList, '/humans/faces/tracked')
    cam_a, cam_b = Sender(tester, '/cam_a'), Sender(tester, '/cam_b')
    assert tester.wait_for_publishers('/humans/candidate_matches', 2)
    # Camera A meets both people: each becomes a new person.
    for _ in range(FRAMES):
        _, answer = cam_a.send(_frame(people, ('obama', (170, 240)), ('biden', (470, 240))))
    first = _identities(answer)
    assert all(i is not None for i in first), first
    obama_id, biden_id = first[0].person_id, first[1].person_id
    assert obama_id != biden_id
    # The file is the user's alone.
    assert database.is_file() and (database.stat().st_mode & 0o777) == 0o600
    # Camera B, another process on the same file, sees them elsewhere: the same persons.
    for _ in range(FRAMES):
        _, answer = cam_b.send(_frame(people, ('biden', (150, 200)), ('obama', (480, 300))))
    second = _identities(answer)
    assert [i.person_id for i in second] == [biden_id, obama_id], second
    # The consumer got IdsMatch from both nodes: face ids of /humans/faces/tracked, persons'
    # ids as strings, confidences of a match.
    persons = {str(obama_id), str(biden_id)}
    assert tester.spin_until(lambda: {m.id2 for m in matches} >= persons, 10.0)
    face_ids = {i for msg in tracked for i in msg.ids}
    for match in matches:
        assert match.id1_type == IdsMatch.FACE and match.id2_type == IdsMatch.PERSON
        assert match.id1 in face_ids and match.id2 in (str(obama_id), str(biden_id))
        assert 0.5 <= match.confidence <= 1.0
    nodes_seen = {m.id1.rsplit('_', 2)[0] for m in matches}
    assert nodes_seen >= {'cam_a_facesense', 'cam_b_facesense'}
    # Both leave camera B for longer than the track timeout: its matches are withdrawn.
    before = len(matches)
    for _ in range(3):
        cam_b.send(_frame(people))
    assert tester.spin_until(lambda: sum(m.confidence == 0.0 for m in matches[before:]) >= 2,
                             10.0)
    withdrawn = [m for m in matches[before:] if m.confidence == 0.0]
    assert {m.id2 for m in withdrawn} == {str(obama_id), str(biden_id)}
    assert all(m.id1.startswith('cam_b_facesense') for m in withdrawn)


def test_a_name_given_with_the_cli_reaches_detections_and_label_info(
        tester, nodes, people, database):
    """`ros2 run facesense_ros facesense_faces name` while both nodes run: the name travels."""
    labels = tester.collect(LabelInfo, '/cam_a/faces/label_info', rosutil.LATCHED)
    cam_a = Sender(tester, '/cam_a')
    for _ in range(FRAMES):
        _, answer = cam_a.send(_frame(people, ('kit', (320, 240))))
    (identity,) = _identities(answer)
    assert identity is not None and identity.name is None, identity
    done = command_line.run(f'ros2 run facesense_ros facesense_faces --database {database} '
                            f'name {identity.person_id} "Kit Harington"')
    assert done.returncode == 0, done.stdout
    # The gallery is read again within about 0.5 s: the same track comes back named.
    named = None
    for _ in range(20):
        _, answer = cam_a.send(_frame(people, ('kit', (320, 240))))
        (named,) = _identities(answer)
        if named is not None and named.name:
            break
    assert named == Identity(identity.person_id, 'Kit Harington', named.confidence), named
    (detection,) = answer.detections
    assert 'identity:name:Kit Harington' in {r.hypothesis.class_id for r in detection.results}
    # LabelInfo names the new class (published again before that detection).
    assert tester.spin_until(lambda: any(
        'identity:name:Kit Harington' in [c.class_name for c in msg.class_map]
        for msg in labels), 5.0), [len(m.class_map) for m in labels]
    latest = labels[-1].class_map
    assert [c.class_id for c in latest] == list(range(len(latest)))
    # /diagnostics says where the gallery is and how big it is (obama, biden, kit).
    values = Diagnostics(tester, '/cam_a').wait(
        lambda v: v.get('identity named persons') == '1', timeout=5.0)
    assert values['identity'] == 'on' and values['identity gallery'] == str(database), values
    assert int(values['identity persons']) >= 3, values
    assert float(values['latency identity ms']) >= 0.0


def test_identity_off_computes_nothing_and_creates_no_file(tester, model_dir, people,
                                                           tmp_path):
    # The node as `ros2 run` starts it, with a home of its own: no gallery file anywhere.
    env = dict(os.environ, HOME=str(tmp_path / 'home'), XDG_DATA_HOME=str(tmp_path / 'data'))
    (tmp_path / 'home').mkdir()
    process = rosutil.start('facesense_node', namespace='/id_off',
                            params_file=rosutil.PARAMS_FILE,
                            params={'model_dir': str(model_dir), 'reliability': 'reliable'},
                            env=env)
    try:
        rosutil.wait_ready(tester, process, '/id_off/faces/detections')
        sender = Sender(tester, '/id_off')
        for _ in range(FRAMES):
            _, answer = sender.send(_frame(people, ('obama', (320, 240))))
        assert len(answer.detections) == 1
        assert _identities(answer) == [None]
        assert not any('identity' in r.hypothesis.class_id
                       for d in answer.detections for r in d.results)
    finally:
        assert process.stop() == 0
    # ROS writes its logs under the home (~/.ros): nothing of ours is anywhere in it.
    written = [p for p in tmp_path.rglob('*') if p.is_file()]
    assert not any(p.suffix.startswith('.db') or 'facesense' in str(p.relative_to(tmp_path))
                   for p in written), written
    assert not (tmp_path / 'data').exists()
    assert 'face gallery' not in process.output()


def test_an_unreadable_gallery_fails_start_up_in_one_line_and_is_kept(tester, model_dir,
                                                                      tmp_path):
    database = tmp_path / 'faces.db'
    garbage = b'this is not an SQLite database' * 100
    database.write_bytes(garbage)
    process = rosutil.start('facesense_node', namespace='/id_bad',
                            params_file=rosutil.PARAMS_FILE,
                            params={'model_dir': str(model_dir), 'identity': True,
                                    'identity_database': str(database)})
    assert process.wait(timeout=rosutil.STARTUP_TIMEOUT) == 1
    process.stop()
    output = process.output()
    errors = rosutil.error_lines(output)
    assert len(errors) == 1 and str(database) in errors[0], output
    assert 'Traceback' not in output
    assert database.read_bytes() == garbage


def _started(tester, namespace, params):
    """Start facesense_node as users do (the yaml, ``params``); return it once it is ready."""
    process = rosutil.start('facesense_node', namespace=namespace,
                            params_file=rosutil.PARAMS_FILE, params=params)
    rosutil.wait_ready(tester, process, f'{namespace}/faces/detections')
    return process, Sender(tester, namespace)


def test_sigkill_while_learning_then_a_restart_on_the_same_file(
        tester, model_dir, people, tmp_path):
    import signal
    from facesense_ros.gallery import Gallery
    database = tmp_path / 'faces.db'
    params = {'model_dir': str(model_dir), 'identity': True, 'reliability': 'reliable',
              'identity_database': str(database)}
    frame = _frame(people, ('obama', (200, 240)), ('biden', (450, 240)))
    process, sender = _started(tester, '/id_kill', params)
    try:
        for _ in range(FRAMES):
            _, answer = sender.send(frame)
        learnt = [i.person_id for i in _identities(answer)]
        # A third person walks in: killed while the node learns them (no waiting for answers).
        for _ in range(4):
            sender.publisher.publish(sender.message(_frame(
                people, ('obama', (200, 240)), ('biden', (450, 240)), ('kit', (330, 400)))))
            tester.spin_for(0.03)
    finally:
        process.stop(signal.SIGKILL)
    # The file opens; what was learnt before is there, the third person at most once.
    with Gallery(str(database), create=False) as gallery:
        ids = [p.id for p in gallery.persons()]
    assert ids[:2] == sorted(learnt) and len(ids) <= 3
    restarted, sender = _started(tester, '/id_kill', params)
    try:
        for _ in range(FRAMES):
            _, answer = sender.send(frame)
        assert [i.person_id for i in _identities(answer)] == learnt
    finally:
        assert restarted.stop() == 0
    assert 'Traceback' not in restarted.output()
