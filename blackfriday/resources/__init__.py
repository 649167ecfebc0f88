"""The kinds of AWS resource the stack is made of: one module per service, each holding its kinds (data), their
operations (read / differences / apply / delete / remaining) and the service calls; kinds.py registers them.

Every `ensure_*` creates or converges one resource and returns its `Action`; every `delete_*` treats not-found as
done. The stack's declaration (blackfriday/stack_declaration.py) says which resources of these kinds make the stack;
blackfriday/deployment/ plans, applies, removes and describes it.
"""
