#!/usr/bin/env bash
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Prepare this checkout for ansible-test without internet access:
#  1. install tests/utils/get_pip_stub.py as the cached pip bootstrap script
#     ansible-test would otherwise download (ansible/ansible#77304);
#  2. copy the collection to $LVS_AC_ROOT/ansible_collections/lvs/cluster,
#     the layout ansible-test requires (a symlink does not work: ansible-test
#     resolves the physical working directory).
# Usage:  source tests/utils/ansible-test-env.sh   (or run it; it prints the path)
#   then: cd "$LVS_COLLECTION_DIR" && ansible-test sanity --local --python 3.11
# Env: LVS_AC_ROOT (default /tmp/lvs-ac-<hash of this checkout's path>: two
# checkouts on one machine must not replace each other's copy mid-run), LVS_PIP_VERSION (default 24.2, the
# version pinned by ansible-core 2.19's ansible-test).

set -eu

lvs_src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
lvs_root="${LVS_AC_ROOT:-/tmp/lvs-ac-$(printf %s "${lvs_src}" | md5sum | cut -c1-10)}"
lvs_pip="${LVS_PIP_VERSION:-24.2}"

export LC_ALL=C.UTF-8
cache_dir="${HOME}/.ansible/test/cache"
mkdir -p "${cache_dir}"
cp "${lvs_src}/tests/utils/get_pip_stub.py" "${cache_dir}/get_pip_${lvs_pip//./_}.py"

LVS_COLLECTION_DIR="${lvs_root}/ansible_collections/lvs/cluster"
export LVS_COLLECTION_DIR
mkdir -p "${LVS_COLLECTION_DIR}"
# Only the files git knows (tracked, or new and not ignored): ansible-test
# then sees exactly the collection, not build output or local scratch files.
rm -rf "${LVS_COLLECTION_DIR}"
mkdir -p "${LVS_COLLECTION_DIR}"
(cd "${lvs_src}" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) \
    | (cd "${LVS_COLLECTION_DIR}" && tar -xf -)
echo "${LVS_COLLECTION_DIR}"
