"""The project's local AWS emulator: moto's server made real (Lambdas run, Step Functions execute, hot spots fixed).

- `server`: serve moto's WSGI app on 127.0.0.1 with our health route and patches.
- `lambda_runtime` / `lambda_worker`: Python Lambdas run from their zip in warm worker processes.
- `fixes`: every change made to moto, fingerprinted, one module per service (hot spots, differences from AWS).
- `lifecycle`: start in the background, probe, stop (`python -m blackfriday.emulator status|start|stop|serve`).
"""

SERVICE_NAME = "blackfriday-emulator"
HEALTH_PATH = "/_blackfriday/health"
