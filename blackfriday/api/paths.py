"""The order API's paths: what API Gateway sends to the orders_api function (the manifest declares them) and what
its routes answer (blackfriday/api/routes.py). A leaf module, so the stack's declaration does not import the handlers."""

STOREFRONT = "/"
CATALOGUE = "/catalogue"
ORDERS = "/orders"
ORDER = "/orders/{orderId}"
ORDER_RECEIPT = "/orders/{orderId}/receipt"
ORDER_APPROVAL = "/orders/{orderId}/approval"
APPROVALS = "/approvals"
REVIEW = "/review"

ROUTE_PATHS = (STOREFRONT, CATALOGUE, ORDERS, ORDER, ORDER_RECEIPT, ORDER_APPROVAL, APPROVALS, REVIEW)
