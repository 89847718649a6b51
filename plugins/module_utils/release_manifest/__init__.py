# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB's release manifest (or the objects its Helm chart renders) as plain data.

``options``   checks the install options (speaker placement, image mirror, namespace) and
              raises one error naming every bad variable
``transform`` the upstream objects adapted to those options, ready for server-side apply
``inventory`` what an install consists of (CRDs, workloads, webhook Services), readiness
              of what the API server holds, and the order to delete things in
``helm``      the same options as values of the upstream Helm chart
``plan``      everything metallb_install decides (behind the action plugin metallb_release): the
              inputs' problems, the waits derived from the objects, what is pending, the wait
              loop and its diagnostic
"""
