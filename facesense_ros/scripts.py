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
The console scripts that take SIGINT/SIGTERM from their first line: facesense_node, image_source.

Importing rclpy, OpenCV and OpenVINO takes most of a second; a signal in that time used to kill
the process (SIGTERM, exit -15) or print a KeyboardInterrupt traceback (SIGINT). These entry
points install stop_signals' handlers before importing anything heavy, then hand the stop
request to the program, which acts on it at its next safe point and exits 0.
"""

import sys

from facesense_ros.stop_signals import StopSignals


def facesense_node(args=None):
    """Install the stop handlers, then import and run the node (node.run)."""
    stop = StopSignals.install()
    # Imported only now, so that the handlers above cover its import time.
    from facesense_ros.node import run
    sys.exit(run(stop, args))


def image_source(args=None):
    """Install the stop handlers, then import and run image_source."""
    stop = StopSignals.install()
    from facesense_ros.image_source import main
    main(args, stop)
