"""lambdas/orders_api.py called as Lambda calls it, with the environment its FunctionSpec declares, under moto."""

from __future__ import annotations

import importlib.util
import json

from blackfriday.deployment.deploy import PROJECT_ROOT
from blackfriday.functions import ORDERS_API_FUNCTION
from blackfriday.stack_declaration import environment_values


def load_handler(monkeypatch, names):
    values = environment_values(names)
    for variable in ORDERS_API_FUNCTION.environment:
        monkeypatch.setenv(variable, values[variable])
    module_spec = importlib.util.spec_from_file_location("lambda_orders_api", PROJECT_ROOT / "lambdas" / "orders_api.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.handler


def test_the_handler_answers_a_proxy_event_with_a_proxy_answer(mock_workflow_stack, monkeypatch):
    handler = load_handler(monkeypatch, mock_workflow_stack.names)
    event = {
        "resource": "/catalogue",
        "path": "/catalogue",
        "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"path": "/prod/catalogue", "stage": "prod"},
    }
    answer = handler(event, None)
    assert (answer["statusCode"], answer["headers"]["Content-Type"], answer["isBase64Encoded"]) == (200, "application/json", False)
    assert json.loads(answer["body"])["products"][0]["sku"] == "DB-TV-65"
