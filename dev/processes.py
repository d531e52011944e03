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

``start``/``stop`` run <install>/facesense_ros/lib/facesense_ros/<executable> (the colcon
install directory of the selected distro, $FACESENSE_INSTALL_DIR from dev/setup.bash) in the
caller's environment (loopback-only discovery) and stop it with SIGINT.
``loopback_shm_profile`` writes the shipped config/fastdds_shm.xml with its UDPv4 transport
bound to 127.0.0.1: the only form of that profile any process on these machines may run with;
``profile_env`` names it under the variable this distro's Fast DDS reads.
``loopback_env`` puts an environment on loopback the way its distro reads it.
"""

import os
from pathlib import Path
import signal
import subprocess
from xml.etree import ElementTree

from facesense_ros import fastdds_profile

ROOT = Path(__file__).resolve().parents[1]
# dev/setup.bash sets it (install/ for Kilted, install-jazzy/ for DISTRO=jazzy).
INSTALL = Path(os.environ.get('FACESENSE_INSTALL_DIR') or ROOT / 'install')
LIB = INSTALL / 'facesense_ros' / 'lib' / 'facesense_ros'
SHM_PROFILE = ROOT / 'config' / 'fastdds_shm.xml'
# Fast DDS's XML namespace; written back as the default namespace, since Fast DDS compares
# element names as written (an 'ns0:' prefix would make every element unknown to it).
FASTDDS_NS = 'http://www.eprosima.com'
# Distros whose rcl reads only ROS_LOCALHOST_ONLY (ROS_AUTOMATIC_DISCOVERY_RANGE came in Iron).
LOCALHOST_ONLY_DISTROS = ('humble',)
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


def profile_env(profile):
    """Return the environment entry that gives this $ROS_DISTRO's Fast DDS the XML ``profile``."""
    return fastdds_profile.profile_env(profile, os.environ.get('ROS_DISTRO'))


def loopback_env(environ):
    """
    Put the mapping ``environ`` on loopback-only discovery for its $ROS_DISTRO; return it.

    Humble reads only ROS_LOCALHOST_ONLY=1. Jazzy and Kilted read
    ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, and Jazzy's rcl warns at every process start when
    ROS_LOCALHOST_ONLY is set too, so there it is removed.
    """
    if environ.get('ROS_DISTRO') in LOCALHOST_ONLY_DISTROS:
        environ['ROS_LOCALHOST_ONLY'] = '1'
    else:
        environ.pop('ROS_LOCALHOST_ONLY', None)
    environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    return environ
