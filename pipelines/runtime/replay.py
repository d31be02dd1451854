"""Runs a windowed pipeline's outputs (driftless_runtime.windowed_outputs) as a real Structured Streaming query over
local files, one micro-batch per batch of records, and optionally replays the last micro-batch as a restarted driver
would after being killed between writing its output and committing it. For pipelines/windows.engines.test.ts; the
Kafka source and sink are replaced by files and a collector, everything between them is the runtime's.

    replay.py --job job.json --batches batches.json [--replay]

batches.json is a JSON array of micro-batches, each an array of record texts; a record's key (what Kafka's
topic-partition-offset is on the cluster) is `batch-<i>-<j>`. Prints JSON: every message the sink query and the
dead-letter query wrote, with the micro-batch that wrote it, and the watermark after each batch of records.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driftless_runtime as runtime  # noqa: E402  (found beside this file)


def main():
    parser = argparse.ArgumentParser(description="Runs a windowed pipeline's outputs over local files.")
    parser.add_argument("--job", required=True, help="a file holding the job description (references as local files)")
    parser.add_argument("--batches", required=True, help="a file holding a JSON array of micro-batches of records")
    parser.add_argument("--replay", action="store_true", help="run the last micro-batch again, as after a killed driver")
    args = parser.parse_args()
    with open(args.job) as file:
        job = json.load(file)
    with open(args.batches) as file:
        batches = json.load(file)
    spark = (
        SparkSession.builder.master(os.environ.get("DRIFTLESS_SPARK_MASTER", "local[2]"))
        .appName("driftless-replay")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(runtime.__file__)
    runtime.configure(spark)
    runtime.register_references(spark, job)
    steps = runtime.read_steps(spark, job)
    work = tempfile.mkdtemp(prefix="driftless-replay-")
    try:
        print(json.dumps(run(spark, job, steps, batches, work, args.replay)))
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(spark, job, steps, batches, work, replay):
    incoming = os.path.join(work, "incoming")
    os.makedirs(incoming)
    written = {"sink": [], "dead_letters": []}

    def start():
        records = spark.readStream.schema("_key STRING, _record STRING").option("maxFilesPerTrigger", 1).json(incoming)
        result, dead_letters = runtime.windowed_outputs(spark, job, records, steps)
        return [
            query(result, os.path.join(work, "sink"), written["sink"]),
            query(dead_letters, os.path.join(work, "rejects"), written["dead_letters"]),
        ]

    queries = start()
    watermarks = []
    for index, batch in enumerate(batches):
        # Written whole, then renamed: the file source must never see half a file.
        part = os.path.join(work, "batch-{:04d}.json".format(index))
        with open(part, "w") as file:
            file.write("".join(json.dumps({"_key": "batch-{}-{}".format(index, j), "_record": r}) + "\n" for j, r in enumerate(batch)))
        os.rename(part, os.path.join(incoming, os.path.basename(part)))
        for running in queries:
            running.processAllAvailable()
        watermarks.append(queries[0].lastProgress["eventTime"].get("watermark"))
    if replay:
        for running in queries:
            running.stop()
        for folder, messages in (("sink", written["sink"]), ("rejects", written["dead_letters"])):
            # A driver killed after the sink took the last micro-batch that had output, before that batch was
            # committed (and so before any later one was planned): its commit is missing, and nothing after it exists.
            last = max(message["batch"] for message in messages)
            forget(os.path.join(work, folder, "commits"), last)
            forget(os.path.join(work, folder, "offsets"), last + 1)
        queries = start()
        for running in queries:
            running.processAllAvailable()
    for running in queries:
        running.stop()
    return {**written, "watermarks": watermarks}


def forget(log, first):
    """Removes the entries of a checkpoint log (offsets or commits) from batch `first` on."""
    for name in os.listdir(log):
        batch = name[1:-len(".crc")] if name.startswith(".") and name.endswith(".crc") else name
        if batch.isdigit() and int(batch) >= first:
            os.remove(os.path.join(log, name))


def query(messages, checkpoint, written):
    """A query that collects every message it is given, as the Kafka sink would send it."""

    def collect(batch, batch_id):
        for row in batch.select(F.col("key").cast("string"), F.col("value").cast("string")).collect():
            written.append({"batch": batch_id, "key": row[0], "value": row[1]})

    return messages.writeStream.outputMode("append").option("checkpointLocation", checkpoint).foreachBatch(collect).start()


if __name__ == "__main__":
    main()
