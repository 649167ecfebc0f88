"""consumer.py's machinery: two worker pools that drain the fan-out queues exactly once.

- `messages`: what a queue message says (S3 event, S3 test event, or garbage) and reading the order object.
- `pool`: the receive / handle / batch-delete loop both pools share, with graceful stop.
- `shipping`: hand each order to the OrderProcessingWorkflow (execution name = orderId).
- `analytics`: per-SKU demand, one DynamoDB transaction per order guarded by a seen-marker.
- `visibility`: keeps messages in hand invisible while their work outlasts the visibility timeout.
- `tracker`: started executions, the --max-inflight bound, succeeded/failed counts and latency.
- `monitor`: queue and DLQ depths, sampled for the dashboard and --until-empty.
- `dashboard`: the rich live view, or plain periodic lines.
- `redrive`: move a DLQ's messages back to its queue.
- `stats`: the pools' and counters' names, the counters themselves and the latency sample.
- `summary`: the run as a value (RunSnapshot): its tables, its --json and the analytics report.
- `run`: wires the pieces together, handles signals, decides when to stop, takes snapshots.
"""
