"""wavedrain.kvm planner library: pure Python, no Ansible import, no I/O.

Modules (all private to the collection):
  model       datacenter model: parsing, defaults, validation, network paths
  plan        plan format v1 (actions with dependencies) and JSON helpers
  simulator   event-driven replay of a plan (max-min fair flows, pre-copy rounds)
  checker     solver-independent validation of a plan against a model
  violation   a broken rule (shared by the checker and the constraints)
  constraints registry of operator constraints, one file each (parse, explain, bound, check,
              MILP rows, lane tokens): concurrency caps
  baselines   yardstick strategies: sequential, parallel (and first-fit placement)
  hand_tuned  the expert yardstick: k lanes, m VMs at a time, boots b ahead, LACP pairing
  milp        placement MILP (PuLP, HiGHS by default)
  aggregate   rack-level MILP for large models
  schedule    lane scheduler: a placement becomes dependency chains
  planner     plan_drain: explain, bound, solve, schedule, replay, check, choose
  report      self-contained HTML report (plan and run)
"""
