#!/usr/bin/env python3
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Control the network-namespace lab: up, down, status, exec, speaker, link, vip.

Usage: python3 lab/labctl.py --help   (root; stdlib only; see lab/README.md)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metallb_lab.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
