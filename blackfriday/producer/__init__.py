"""The Black Friday spike: send orders, one per object (or request), in parallel; producer.py is its CLI.

- `settings`: what a run is asked to do (SpikeSettings), checked across options.
- `plan`: what order index i sends, a pure function of (seed, index), faults included.
- `pacing`: the --rate cap and its --shape.
- `sinks`: where an order goes (one `send` call); S3Sink uploads it to the orders bucket, ApiSink posts it to the order API.
- `engine`: worker threads sending through one sink, Ctrl-C handling, abandoning a broken sink.
- `report`: what a run did (SpikeReport), as --json.
- `view`: progress and the summary on the terminal.
- `run`: the whole run as producer.py performs it, ending in an exception when it must not exit 0.
"""

from blackfriday.producer.engine import Spike
from blackfriday.producer.plan import UploadPlan
from blackfriday.producer.report import SpikeReport
from blackfriday.producer.run import SpikeInterrupted, run_spike
from blackfriday.producer.settings import SpikeSettings
from blackfriday.producer.sinks import UPLOADED_AT_METADATA, ApiSink, OrderSink, RefusedAtTheDoor, S3Sink

__all__ = [
    "UPLOADED_AT_METADATA",
    "ApiSink",
    "OrderSink",
    "RefusedAtTheDoor",
    "S3Sink",
    "Spike",
    "SpikeInterrupted",
    "SpikeReport",
    "SpikeSettings",
    "UploadPlan",
    "run_spike",
]
