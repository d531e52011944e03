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
The package's console scripts as processes, for `make demo`, `make bench` and tests.

``start``/``stop`` run install/facesense_ros/lib/facesense_ros/<executable> in the caller's
environment (dev/setup.bash: loopback-only discovery) and stop it with SIGINT.
``loopback_shm_profile`` writes the shipped config/fastdds_shm.xml with its UDPv4 transport
bound to 127.0.0.1: the only form of that profile any process on these machines may run with.
"""

import os
from pathlib import Path
import signal
import subprocess
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / 'install' / 'facesense_ros' / 'lib' / 'facesense_ros'
SHM_PROFILE = ROOT / 'config' / 'fastdds_shm.xml'
# Fast DDS's XML namespace; written back as the default namespace, since Fast DDS compares
# element names as written (an 'ns0:' prefix would make every element unknown to it).
FASTDDS_NS = 'http://www.eprosima.com'
# A clean exit after SIGINT is well under a second; this only bounds a hang.
STOP_TIMEOUT = 10.0


def start(executable, args, log, env=None):
    """Start a console script with ``--ros-args args``, output to the open file ``log``."""
    return subprocess.Popen([str(LIB / executable), '--ros-args', *args], stdout=log,
                            stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))


def stop(process, timeout=STOP_TIMEOUT):
    """Stop ``process`` with SIGINT (kill it if it hangs); return its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def loopback_shm_profile(destination, source=SHM_PROFILE):
    """
    Write ``source`` with only an interfaceWhiteList 127.0.0.1 added to its UDPv4 transport.

    The shipped profile leaves UDP on every interface (remote rviz2 must work), and
    ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST may not constrain a transport that a user XML file
    defines, so here it is never run as shipped. What is measured is otherwise the very file
    users get. Returns ``destination`` (a Path).
    """
    ElementTree.register_namespace('', FASTDDS_NS)
    tree = ElementTree.parse(source)
    ns = {'f': FASTDDS_NS}
    udp = [d for d in tree.getroot().iterfind('f:transport_descriptors/f:transport_descriptor', ns)
           if d.findtext('f:type', namespaces=ns) == 'UDPv4']
    if len(udp) != 1 or udp[0].find('f:interfaceWhiteList', ns) is not None:
        raise ValueError(f'{source}: expected one UDPv4 transport without a whitelist')
    whitelist = ElementTree.SubElement(udp[0], f'{{{FASTDDS_NS}}}interfaceWhiteList')
    ElementTree.SubElement(whitelist, f'{{{FASTDDS_NS}}}address').text = '127.0.0.1'
    destination = Path(destination)
    tree.write(destination, encoding='UTF-8', xml_declaration=True)
    return destination
