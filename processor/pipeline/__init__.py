"""The product's processing, free of Kafka and Redis (they sit behind processor.ports):

* ``batch``: one batch of one partition, decode -> load -> decide -> write -> outputs;
* ``outcomes``: the stored outcome of a decided input, its byte format and its replay;
* ``keying``: how each output topic is keyed and partitioned;
* ``runner``: source -> batch -> sink, exactly once per partition number (with ``slots``,
  and ``recovery`` for a consent store that lost writes);
* ``window_timer``: due confirmation windows and quiet-hour holds, as expiry commands;
* ``dead_letter_limit``: a partition of mostly invalid records is stopped, not drained.
"""

from processor.pipeline.batch import BatchOutcome, BatchProcessor
from processor.ports import InputRecord, OutputRecord

__all__ = ["BatchOutcome", "BatchProcessor", "InputRecord", "OutputRecord"]
