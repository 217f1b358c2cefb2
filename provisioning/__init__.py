"""Fabric provisioning for technicians and the NOC: ``qbox provision ...``.

- :mod:`provisioning.inventory`: the inventory YAML (regions, branches, boxes, layered
  variables and box configuration, pinned host keys), validated with file:line:field errors;
- :mod:`provisioning.runner`: plan, apply, verify, collect, rollback and rolling upgrades
  over the boxes in parallel (Fabric ThreadingGroup);
- :mod:`provisioning.steps`: the idempotent steps (bootstrap, configure, handlers, verify,
  collect, rollback, switchover), each reporting ok, changed or failed;
- :mod:`provisioning.report`: the summary table, plan diffs, commissioning report, JSON;
- :mod:`provisioning.release`: the qbox wheel built from a checkout, named by content;
- :mod:`provisioning.render` and ``templates/``: the files a box gets.

This runs on a laptop or build host, never on the box.
"""
