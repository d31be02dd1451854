"""The driftless runtime: runs one pipeline as its job description says.

    driftless_runtime.py --job '<json>' [--date YYYY-MM-DD]

The job description is pipelines/job-spec.ts (JobSpec); what the runtime does with it is pipelines/README.md.
Every pipeline runs this one program, so a pipeline is a spec and SQL files, never Spark code. The logic
tests run the same semantics in DuckDB (pipelines/sql-harness.ts): a change here is a change there.
"""

import argparse
import csv
import datetime
import functools
import json
import os
import re

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.types import StringType, StructField, StructType

# A comma outside double quotes is one followed by an even number of quotes up to the end of the line.
CSV_SEPARATOR = ',(?=(?:[^"]*"[^"]*")*[^"]*$)'
SINK_QUERY = "sink"
REJECTS_QUERY = "rejects"


def main():
    parser = argparse.ArgumentParser(description="Runs one driftless pipeline.")
    parser.add_argument("--job", required=True, help="the job description as JSON (pipelines/job-spec.ts)")
    parser.add_argument("--date", help="batch only: the logical date YYYY-MM-DD to process (default: yesterday, UTC)")
    args = parser.parse_args()
    job = json.loads(args.job)
    spark = SparkSession.builder.appName("driftless-" + job["pipeline"]).getOrCreate()
    # The semantics depend on these; the manifest sets them too, but a job must not rely on it.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    steps = read_steps(spark, job)
    # Registered before any stream starts: a streaming query's session is a copy that keeps these views.
    for reference in job["references"]:
        read_table(spark, reference["uri"], reference["format"]).createOrReplaceTempView(reference["as"])
    if job["kind"] == "batch":
        run_batch(spark, job, steps, logical_date(args.date))
    elif job.get("window"):
        run_windowed_stream(spark, job, steps)
    else:
        run_accumulating_stream(spark, job, steps)


def join(uri, *parts):
    return "/".join([uri.rstrip("/"), *parts])


def logical_date(text):
    """The day a batch run processes: the one given, or the day before today (UTC)."""
    if text:
        return datetime.date.fromisoformat(text)
    return datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)


def read_steps(spark, job):
    """Each step as (view name, SQL): read from the job's code folder, with any final ';' removed."""
    steps = []
    for step in job["steps"]:
        text = spark.read.text(join(job["codeUri"], step), wholetext=True).first()[0]
        steps.append((re.sub(r"\.sql$", "", step).replace("-", "_"), re.sub(r";(\s|--[^\n]*)*$", "", text)))
    return steps


def read_table(spark, uri, fmt):
    reader = spark.read.option("header", "true").option("escape", '"') if fmt == "csv" else spark.read
    return reader.format(fmt).load(uri)


def field_names(job):
    return [field["name"] for field in job["fields"]]


def kafka_options(job):
    """Connection options for every Kafka source and sink: SCRAM-SHA-512 over TLS with the cluster's CA."""
    kafka = job["kafka"]

    def quoted(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    login = "org.apache.kafka.common.security.scram.ScramLoginModule required username={} password={};".format(
        quoted(os.environ[kafka["usernameEnv"]]), quoted(os.environ[kafka["passwordEnv"]])
    )
    return {
        "kafka.bootstrap.servers": kafka["bootstrapServers"],
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": login,
        "kafka.ssl.truststore.type": "PEM",
        "kafka.ssl.truststore.location": kafka["caFile"],
    }


# ---------------------------------------------------------------- records: raw text, checked, transformed


def kafka_records(spark, job):
    """The source topic as a stream of raw records (`_record`: the message value as text)."""
    source = job["source"]
    return (
        spark.readStream.format("kafka")
        .options(**kafka_options(job))
        .option("subscribe", source["topic"])
        .option("kafka.group.id", source["consumerGroup"])
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "true")
        .load()
        .select(F.col("value").cast("string").alias("_record"))
    )


def batch_records(spark, job, day):
    """The day's file as raw records: its non-blank lines (a CSV file's header checked and left out), or, for
    Parquet, every field as text and the row as JSON."""
    source = job["source"]
    names = field_names(job)
    path = join(source["uri"], source.get("file", "").replace("{yyyymmdd}", day.strftime("%Y%m%d")))
    if source["format"] == "parquet":
        table = spark.read.parquet(path)
        return table.select(*[F.col(n).cast("string").alias(n) for n in names], F.to_json(F.struct(*table.columns)).alias("_record"))
    lines = spark.read.text(path).select(F.col("value").alias("_record")).where(F.trim("_record") != "")
    if source["format"] == "csv":
        header = lines.first()
        if header is not None:
            # Columns are matched by position: a file whose columns moved must stop the run, not shift the data.
            if next(csv.reader([header[0]])) != names:
                raise ValueError("{}: the CSV header must be '{}', got '{}'".format(path, ",".join(names), header[0]))
            lines = lines.where(F.col("_record") != header[0])
    return lines


def parse(records, fmt, names):
    """Every field as text, `_record`, and `_parse_reason` for a record that cannot be split into fields."""
    text = F.col("_record")
    if fmt == "parquet":
        return records.withColumn("_parse_reason", F.lit(None).cast("string"))
    if fmt == "json":
        schema = StructType([StructField(n, StringType()) for n in names] + [StructField("_corrupt_record", StringType())])
        parsed = F.from_json(text, schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"})
        bad = text.isNull() | ~F.trim(text).startswith("{") | parsed.getField("_corrupt_record").isNotNull()
        reason = "unparseable JSON"
    else:
        parsed = F.from_csv(text, ", ".join("`{}` STRING".format(n) for n in names), {"escape": '"'})
        quotes = F.length(text) - F.length(F.regexp_replace(text, '"', ""))
        bad = text.isNull() | (quotes % 2 == 1) | (F.size(F.split(text, CSV_SEPARATOR, -1)) != len(names))
        reason = "malformed CSV line"
    return records.select(*[parsed.getField(n).alias(n) for n in names], text, F.when(bad, F.lit(reason)).alias("_parse_reason"))


def check(spark, records, job):
    """Valid typed records (the view `source`, with `window_start` for a windowed pipeline) and the rejects
    (`_record`, `reject_reason`) of the quality SQL and the parsing before it."""
    parsed = parse(records, job["source"]["format"], field_names(job))
    parsed.where("_parse_reason IS NULL").drop("_parse_reason").createOrReplaceTempView("raw")
    typed = spark.sql(job["qualitySql"])
    rejects = parsed.where("_parse_reason IS NOT NULL").select("_record", F.col("_parse_reason").alias("reject_reason"))
    rejects = rejects.unionByName(typed.where("reject_reason IS NOT NULL").select("_record", "reject_reason"))
    valid = typed.where("reject_reason IS NULL").drop("_record", "reject_reason")
    window = job.get("window")
    if window:
        valid = valid.withColumn("window_start", F.date_trunc(window["unit"], F.col(window["column"])))
    return valid, rejects


def run_steps(spark, source, steps):
    """The last step's result over `source`, and the rows that steps rejected (the row as JSON, the reason)."""
    source.createOrReplaceTempView("source")
    result, rejects = source, []
    for view, sql in steps:
        result = spark.sql(sql)
        if "reject_reason" in result.columns:
            kept = [c for c in result.columns if c != "reject_reason"]
            rejected = result.where("reject_reason IS NOT NULL")
            rejects.append(rejected.select(F.to_json(F.struct(*kept)).alias("_record"), "reject_reason"))
            result = result.where("reject_reason IS NULL").drop("reject_reason")
        result.createOrReplaceTempView(view)
    return result, rejects


def union(first, others):
    return functools.reduce(DataFrame.unionByName, others, first)


# ---------------------------------------------------------------- outputs


def as_json(rows):
    return rows.select(F.to_json(F.struct(*rows.columns)).alias("value"))


def reject_values(job, rejects):
    """Dead letters as JSON text: the record as it arrived (or the step's row), the reason, the pipeline, when."""
    return rejects.select(
        F.to_json(
            F.struct(
                F.col("_record").alias("record"),
                "reject_reason",
                F.lit(job["pipeline"]).alias("pipeline"),
                F.current_timestamp().alias("rejected_at"),
            )
        ).alias("value")
    )


def publish(job, values, topic):
    values.write.format("kafka").options(**kafka_options(job)).option("topic", topic).save()


def write_sink(job, rows):
    """A batch of results: JSON values to a topic, or Parquet overwriting exactly the partitions they fall in."""
    sink = job["sink"]
    if sink["type"] == "kafka":
        publish(job, as_json(rows), sink["topic"])
    else:
        rows.write.mode("overwrite").partitionBy(*sink.get("partitionBy", [])).parquet(sink["uri"])


def write_rejects(job, rejects, folder):
    """A batch of rejects: to the dead-letter topic, or as JSON lines replacing `folder` under the errors prefix."""
    location = job["rejects"]
    if location["type"] == "kafka":
        publish(job, reject_values(job, rejects), location["topic"])
    else:
        reject_values(job, rejects).write.mode("overwrite").text(join(location["uri"], folder))


def streaming(job, rows, name):
    """A writer for a query of this pipeline, with its own checkpoint folder."""
    return (
        rows.writeStream.queryName(job["pipeline"] + "-" + name)
        .outputMode("append")
        .trigger(processingTime="{} seconds".format(job["triggerSeconds"]))
        .option("checkpointLocation", join(job["checkpointUri"], name))
    )


def start_stream(job, rows, location, name):
    if location["type"] == "kafka":
        return streaming(job, rows, name).format("kafka").options(**kafka_options(job)).option("topic", location["topic"]).start()
    fmt = "parquet" if name == SINK_QUERY else "text"
    return streaming(job, rows, name).format(fmt).partitionBy(*location.get("partitionBy", [])).option("path", location["uri"]).start()


# ---------------------------------------------------------------- the three shapes


def run_batch(spark, job, steps, day):
    """One day's file; a re-run of the day replaces that day's output partitions and its rejects."""
    records = batch_records(spark, job, day).cache()
    # The steps can compare records with the day being processed (view `run`, column `run_date`).
    spark.sql("SELECT DATE'{}' AS run_date".format(day.isoformat())).createOrReplaceTempView("run")
    valid, rejects = check(spark, records, job)
    result, step_rejects = run_steps(spark, valid, steps)
    write_rejects(job, union(rejects, step_rejects), "date=" + day.isoformat())
    write_sink(job, result)
    if job["sink"]["type"] != "kafka" and job["sink"].get("partitionBy"):
        remove_stale_partitions(spark, job, result, day)


def remove_stale_partitions(spark, job, result, day):
    """Deletes the partitions that the previous run of this day wrote and this one did not. Dynamic overwrite replaces
    only the partitions a run produces, so without this a corrected file with no valid rows would leave the day's old
    totals in place. Each run records its partitions in `<sink>/_runs/date=<day>` (hidden from readers by the '_')."""
    sink = job["sink"]
    jvm = spark.sparkContext._jvm
    escape = jvm.org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils.escapePathName
    names = sink["partitionBy"]
    written = sorted(
        "/".join("{}={}".format(escape(name), escape("__HIVE_DEFAULT_PARTITION__" if row[name] is None else str(row[name]))) for name in names)
        for row in result.select(*names).distinct().collect()
    )
    record = jvm.org.apache.hadoop.fs.Path(join(sink["uri"], "_runs", "date=" + day.isoformat()))
    fs = record.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if fs.exists(record):
        stream = fs.open(record)
        try:
            previous = json.loads(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()
        for partition in sorted(set(previous) - set(written)):
            fs.delete(jvm.org.apache.hadoop.fs.Path(join(sink["uri"], partition)), True)
    out = fs.create(record, True)
    try:
        out.write(bytearray(json.dumps(written), "utf-8"))
    finally:
        out.close()


def run_windowed_stream(spark, job, steps):
    """Event-time windows: each finalized once the watermark passes it, and written once (append)."""
    valid, rejects = check(spark, kafka_records(spark, job), job)
    valid = valid.withWatermark("window_start", "{} minutes".format(job["window"]["watermarkMinutes"]))
    result, step_rejects = run_steps(spark, valid, steps)
    sink = job["sink"]
    start_stream(job, as_json(result) if sink["type"] == "kafka" else result, sink, SINK_QUERY)
    start_stream(job, reject_values(job, union(rejects, step_rejects)), job["rejects"], REJECTS_QUERY)
    commit_offsets_of(spark, job, SINK_QUERY)
    spark.streams.awaitAnyTermination()


def run_accumulating_stream(spark, job, steps):
    """Results over every record so far: each micro-batch keeps its valid records, then recomputes the steps
    over all kept records for the partitions it touched and overwrites exactly those partitions."""
    sink = job["sink"]
    partitions = sink.get("partitionBy", [])
    # A folder starting with '_' is invisible to readers of the sink's partitions.
    kept = join(job["checkpointUri"] if sink["type"] == "kafka" else sink["uri"], "_records")

    def each_batch(batch, batch_id):
        session = batch.sparkSession
        batch.persist()
        valid, rejects = check(session, batch, job)
        touched, step_rejects = run_steps(session, valid, steps)
        write_rejects(job, union(rejects, step_rejects), "batch_id={}".format(batch_id))
        # Overwritten, not appended: a retried micro-batch replaces its records instead of adding them twice.
        valid.write.mode("overwrite").parquet(join(kept, "batch_id={}".format(batch_id)))
        result, _ = run_steps(session, session.read.parquet(kept).drop("batch_id"), steps)
        if partitions:
            result = result.join(touched.select(*partitions).distinct(), partitions, "left_semi")
        write_sink(job, result)
        batch.unpersist()

    streaming(job, kafka_records(spark, job), SINK_QUERY).foreachBatch(each_batch).start()
    commit_offsets_of(spark, job, SINK_QUERY)
    spark.streams.awaitAnyTermination()


# ---------------------------------------------------------------- consumer lag


class OffsetCommitter(StreamingQueryListener):
    """Commits the offsets a query has finished to the consumer group. Spark keeps its offsets in the checkpoint
    (which stays the truth); without this the group shows no progress, and lag alerts would see nothing."""

    def __init__(self, spark, job, query_name):
        self.query_name = query_name
        self.jvm = spark.sparkContext._jvm
        properties = self.jvm.java.util.Properties()
        for key, value in kafka_options(job).items():
            properties.setProperty(key[len("kafka."):], value)
        properties.setProperty("group.id", job["source"]["consumerGroup"])
        deserializer = "org.apache.kafka.common.serialization.ByteArrayDeserializer"
        properties.setProperty("key.deserializer", deserializer)
        properties.setProperty("value.deserializer", deserializer)
        self.consumer = self.jvm.org.apache.kafka.clients.consumer.KafkaConsumer(properties)

    def onQueryStarted(self, event):
        pass

    def onQueryIdle(self, event):
        pass

    def onQueryTerminated(self, event):
        pass

    def onQueryProgress(self, event):
        if event.progress.name != self.query_name:
            return
        offsets = self.jvm.java.util.HashMap()
        for source in event.progress.sources:
            for topic, partitions in json.loads(source.endOffset).items():
                for partition, offset in partitions.items():
                    offsets.put(
                        self.jvm.org.apache.kafka.common.TopicPartition(topic, int(partition)),
                        self.jvm.org.apache.kafka.clients.consumer.OffsetAndMetadata(offset),
                    )
        try:
            self.consumer.commitSync(offsets)
        except Exception as error:  # monitoring must never stop the pipeline
            print("driftless: could not commit offsets for lag monitoring: {}".format(error))


def commit_offsets_of(spark, job, name):
    try:
        spark.streams.addListener(OffsetCommitter(spark, job, job["pipeline"] + "-" + name))
    except Exception as error:  # as above: without it the pipeline runs, only lag is not reported
        print("driftless: consumer lag will not be reported: {}".format(error))


if __name__ == "__main__":
    main()
