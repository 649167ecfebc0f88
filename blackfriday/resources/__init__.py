"""The pipeline's AWS resources: one module per service, `deploy` and `remove` orchestrate them.

Every `ensure_*` creates or converges one resource and returns its `Action`; every `delete_*`
treats not-found as done. `stack.describe_stack` finds a deployed stack from its names alone.
"""
