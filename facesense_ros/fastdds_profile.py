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
The environment variable under which a distro's Fast DDS reads an XML profile (no ROS imports).

Fast DDS 2.x (Humble 2.6, Iron 2.10, Jazzy 2.14) reads only FASTRTPS_DEFAULT_PROFILES_FILE and
silently ignores FASTDDS_DEFAULT_PROFILES_FILE. Fast DDS 3.x (Kilted and later) reads
FASTDDS_DEFAULT_PROFILES_FILE; given the old name instead, its rmw_fastrtps still loads the file
but warns at every process start ("FASTRTPS_DEFAULT_PROFILES_FILE ... is deprecated"), and given
both it warns as well. So the launch files and dev/processes.py set exactly one, chosen by
$ROS_DISTRO (which every ROS setup.bash exports). Measured on this repository's Jazzy and Kilted
environments: docs/distros.md.
"""

from typing import Dict, Optional

# Distros that ship Fast DDS 2.x.
FAST_DDS_2_DISTROS = ('humble', 'iron', 'jazzy')
FAST_DDS_2_VARIABLE = 'FASTRTPS_DEFAULT_PROFILES_FILE'
# Also for an unknown or unset $ROS_DISTRO: every newer distro ships Fast DDS 3.
FAST_DDS_3_VARIABLE = 'FASTDDS_DEFAULT_PROFILES_FILE'


def profile_variable(distro: Optional[str]) -> str:
    """Return the variable the Fast DDS of ``distro`` (a $ROS_DISTRO value) reads profiles from."""
    return FAST_DDS_2_VARIABLE if distro in FAST_DDS_2_DISTROS else FAST_DDS_3_VARIABLE


def profile_env(profile, distro: Optional[str]) -> Dict[str, str]:
    """Return the environment entry that gives the Fast DDS of ``distro`` the XML ``profile``."""
    return {profile_variable(distro): str(profile)}
