"""The project's local AWS emulator: moto's server made real (Lambdas run, Step Functions execute, hot spots fixed).

- `server`: serve moto on 127.0.0.1, one process per group of services (`groups`) behind a front port
  (`front` forwards what the front process does not serve), or all in one (`--processes 1`).
- `in_process`: moto's own calls (the Step Functions interpreter's), in their own process or straight to the right group.
- `lambda_runtime` / `lambda_worker`: Python Lambdas run from their zip in warm worker processes, forked from a
  template process per zip that has imported boto3 as the handler would (`lambda_function`, `lambda_template`,
  `lambda_worker_client`, `lambda_pool`: the function, the template, one worker, the workers of a function).
- `fixes`: every change made to moto, and every read or write of its internals, fingerprinted, one module per service
  (hot spots, differences from AWS), with the messaging process's own (`fixes.awslambda`: S3 and SNS notifications
  to a function reach the Lambda runtime).
- `execute_api`: API Gateway's data plane (deployed REST APIs with Lambda proxy integrations, `deployed_api`), in the
  front process.
- `errors`: the emulator's exceptions.
- `lifecycle`: start in the background, probe, list every process, stop them all
  (`python -m blackfriday.emulator status|start|stop|serve`).
"""

SERVICE_NAME = "blackfriday-emulator"
HEALTH_PATH = "/_blackfriday/health"
