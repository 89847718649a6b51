# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep secrets that live in an FRR configuration out of anything we print.

FRR configs carry secrets in a few well-known commands (BGP neighbor MD5
passwords, vty passwords). Everything the modules return or fail with passes
through :func:`redact`, which masks both the commands and, as a second net,
every literal secret value found in the candidate text (vtysh echoes whole
offending lines in its error messages).
"""

from __future__ import annotations

import re

MASK = "********"

# Each pattern captures (prefix)(secret); the secret runs to the end of the line
# because FRR takes the rest of the line for these commands.
_SECRET_COMMANDS = (
    re.compile(r"^(\s*(?:no\s+)?neighbor\s+\S+\s+password\s+)(\S.*?)\s*$", re.MULTILINE),
    re.compile(r"^(\s*(?:no\s+)?(?:enable\s+)?password\s+(?:[0-9]\s+)?)(\S.*?)\s*$", re.MULTILINE),
)


def find_secrets(config_text: str) -> list[str]:
    """Return every secret value written in ``config_text``, longest first."""
    found = set()
    for pattern in _SECRET_COMMANDS:
        for match in pattern.finditer(config_text or ""):
            found.add(match.group(2))
    return sorted(found, key=lambda s: (-len(s), s))


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Mask secret commands and any literal occurrence of ``secrets`` in ``text``."""
    if not text:
        return text
    for pattern in _SECRET_COMMANDS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    # Longest first so that a secret containing another one is masked whole.
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def redact_lines(lines: list[str], secrets: list[str] | tuple[str, ...] = ()) -> list[str]:
    return [redact(line, secrets) for line in lines]
