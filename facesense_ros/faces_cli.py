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
Console script ``facesense_faces``: list, enroll, name, merge, forget, export, import faces.

``ros2 run facesense_ros facesense_faces [--database PATH] COMMAND ...``; the database defaults
to the node's (``gallery.default_database_path()``). Bad input (an unknown id, a locked,
unreadable or foreign database, a bad export file) prints one line on stderr and exits 1;
usage errors exit 2 (argparse).
"""

import argparse
import datetime
import sys
from typing import Optional, Sequence

from facesense_ros.gallery import default_database_path, Gallery, GalleryError

PROG = 'facesense_faces'


def _time(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds).isoformat(sep=' ', timespec='seconds')


def _list(gallery, args):
    persons = gallery.persons()
    if not persons:
        print(f'no persons in {gallery.path}')
        return
    print(f'{"id":>6}  {"name":<24}  {"first seen":<19}  {"last seen":<19}  embeddings')
    for p in persons:
        print(f'{p.id:>6}  {p.name or "-":<24}  {_time(p.first_seen)}  {_time(p.last_seen)}  '
              f'{p.embeddings:>10}')


def _name(gallery, args):
    gallery.rename(args.id, args.name)
    print(f'person {args.id} is now named {args.name!r}')


def _merge(gallery, args):
    gallery.merge(args.keep, args.other)
    print(f'person {args.other} merged into person {args.keep}')


def _forget(gallery, args):
    if args.all:
        count = gallery.forget_all()
        print(f'forgot all {count} persons in {gallery.path}')
    else:
        gallery.forget(args.id)
        print(f'forgot person {args.id}')


def _export(gallery, args):
    count = gallery.export(args.file)
    print(f'exported {count} persons to {args.file}')


def _import(gallery, args):
    ids = gallery.import_(args.file)
    print(f'imported {len(ids)} persons from {args.file}: ids {", ".join(map(str, ids))}')


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description='Look after the face gallery of facesense_ros identity.')
    parser.add_argument('--database', default=str(default_database_path()),
                        help='gallery file (default: %(default)s)')
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    commands.add_parser('list', help='persons, names, first/last seen, embedding counts'
                        ).set_defaults(run=_list, create=False)
    name = commands.add_parser('name', help='name a person')
    name.add_argument('id', type=int)
    name.add_argument('name')
    name.set_defaults(run=_name, create=False)
    merge = commands.add_parser('merge', help='merge the second person into the first')
    merge.add_argument('keep', type=int, metavar='ID')
    merge.add_argument('other', type=int, metavar='ID')
    merge.set_defaults(run=_merge, create=False)
    forget = commands.add_parser('forget', help='delete a person, or all with --all')
    target = forget.add_mutually_exclusive_group(required=True)
    target.add_argument('id', type=int, nargs='?')
    target.add_argument('--all', action='store_true', help='delete every person')
    forget.set_defaults(run=_forget, create=False)
    export = commands.add_parser('export', help='write all persons to a JSON file (0600)')
    export.add_argument('file')
    export.set_defaults(run=_export, create=False)
    import_ = commands.add_parser('import', help='add the persons of an export file (new ids)')
    import_.add_argument('file')
    import_.set_defaults(run=_import, create=True)
    enroll = commands.add_parser(
        'enroll', help='add a named person from photos of them (one face per photo), with the '
        "node's detector, landmarks and re-identification models")
    enroll.add_argument('name')
    enroll.add_argument('photos', nargs='+', metavar='PHOTO')
    enroll.add_argument('--model-dir', default='', help='OMZ models directory (default: '
                        '$FACESENSE_MODEL_DIR, then the model cache; missing models are '
                        'downloaded)')
    enroll.set_defaults(run=_enroll, prepare=_embed_photos, create=True)
    return parser


class EnrollError(ValueError):
    """A photo that cannot be enrolled: unreadable, no face, or more than one."""


def _embed_photos(args):
    """Embed one face per photo before the gallery is opened (a bad photo changes nothing)."""
    import cv2
    from facesense_ros.config import PipelineConfig
    from facesense_ros.pipeline import FacePipeline
    pipeline = FacePipeline(PipelineConfig(age_gender=False, emotions=False, landmarks=True,
                                           identity=True, model_dir=args.model_dir))
    embeddings = []
    for photo in args.photos:
        image = cv2.imread(photo, cv2.IMREAD_COLOR)
        if image is None:
            raise EnrollError(f'{photo}: cannot read it as an image')
        faces = pipeline.process(image)
        if not faces:
            raise EnrollError(f'{photo}: no face found')
        if len(faces) > 1:
            raise EnrollError(f'{photo}: {len(faces)} faces found, expected one (crop the '
                              'photo to the person)')
        if faces[0].landmarks is None:
            raise EnrollError(f'{photo}: the face is too small ({faces[0].width:.0f} px wide)')
        embeddings.append(pipeline.identity_model.embed(image, [faces[0].landmarks])[0])
    args.embeddings = embeddings


def _enroll(gallery, args):
    person = gallery.add_person(args.embeddings, name=args.name)
    print(f'enrolled {args.name!r} as person {person} from {len(args.embeddings)} photo(s)')


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; 0 on success, 1 on a gallery error (one line on stderr)."""
    from facesense_ros.model_store import ModelError
    args = _parser().parse_args(argv)
    try:
        if getattr(args, 'prepare', None):
            args.prepare(args)
        with Gallery(args.database, create=args.create) as gallery:
            args.run(gallery, args)
    except (GalleryError, ModelError, ValueError) as e:
        print(f'{PROG}: error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
