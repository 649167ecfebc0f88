"""The front door: the order API, a Powertools APIGatewayRestResolver app (routes.py; lambdas/orders_api.py is its thin
handler) over the shop's own checks (intake.py, decisions.py, refusals.py), the pages it serves, and where a deployed
API answers."""
