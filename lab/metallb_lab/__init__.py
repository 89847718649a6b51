# SPDX-License-Identifier: GPL-3.0-or-later
"""The baremetal.metallb network-namespace lab (test tooling, not part of the collection).

Modules, from the bottom up:

- ``plan``: names, addresses and ASNs (pure data, no side effects)
- ``system``: running commands, reading /proc, entering a host, ending processes
- ``processes``: the per-host registry of lab-managed processes (pid files)
- ``network``: namespaces, the bridge, veths, addresses, routes, sysctls
- ``hostinit``: runs inside a new mount+UTS namespace and gives the host its own files
- ``frr``, ``ssh``, ``inventory``: what runs on the hosts and how Ansible reaches them
- ``lab``: the ``Lab`` class (up, down, status, speaker, link, vip)
- ``cli``: ``labctl.py``'s command line
- ``client``: ``LabClient`` for tests and benches (labctl, hosts, ansible-playbook)
"""
