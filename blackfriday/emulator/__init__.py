"""The project's local AWS emulator: moto's server made real (Lambdas run, Step Functions execute, hot spots fixed).

- `server`: serve moto on 127.0.0.1, one process per group of services (`groups`) behind a front port
  (`front` forwards what the front process does not serve), or all in one (`--processes 1`).
- `in_process`: the Step Functions interpreter's calls, in its own process or straight to the right group.
- `remote_lambda`: S3 and SNS notifications to a function, from the messaging process to the Lambda runtime.
- `lambda_runtime` / `lambda_worker`: Python Lambdas run from their zip in warm worker processes.
- `patches`: small fixes for moto hot spots that make large runs crawl.
- `lifecycle`: start in the background, probe, list every process, stop them all
  (`python -m blackfriday.emulator status|start|stop|serve`).
"""

SERVICE_NAME = "blackfriday-emulator"
HEALTH_PATH = "/_blackfriday/health"
