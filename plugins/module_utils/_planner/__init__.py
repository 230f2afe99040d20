"""wavedrain.kvm planner library: pure Python, no Ansible import, no I/O.

Modules (all private to the collection):
  model      datacenter model: parsing, defaults, validation, network paths
  plan       plan format v1 (actions with dependencies) and JSON helpers
  simulator  event-driven replay of a plan (max-min fair flows, pre-copy rounds)
  checker    solver-independent validation of a plan against a model
  baselines  yardstick strategies: sequential, parallel, hand_tuned
"""
