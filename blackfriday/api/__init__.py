"""The front door: the order API's routes as plain functions (lambdas/orders_api.py is their thin handler),
the storefront page it serves, and where a deployed API answers."""
