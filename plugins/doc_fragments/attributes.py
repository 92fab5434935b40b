# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """What every module of the collection supports; a module adds its own details."""

    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: Changes nothing and reports exactly what a real run would change.
  diff_mode:
    support: full
  platform:
    platforms: linux
'''
