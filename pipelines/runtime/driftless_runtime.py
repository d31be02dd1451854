"""The driftless runtime: runs one pipeline as its job description says.

    driftless_runtime.py --job '<json>' [--date YYYY-MM-DD]

The job description is pipelines/job-spec.ts (JobSpec); what the runtime does with it is pipelines/README.md.
Every pipeline runs this one program, so a pipeline is a spec and SQL files, never Spark code. The logic
tests run the same semantics in DuckDB (pipelines/sql-harness.ts): a change here is a change there.
"""

import argparse
import datetime
import functools
import json
import os
import re

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.types import ArrayType, StringType

# RFC 4180: a field is quoted ('""' inside for a quote) or holds neither quotes nor commas. A line of such fields
# separated by commas is well formed; a quote inside an unquoted field, text after a closing quote or an unclosed
# quote is not.
CSV_FIELD = '"(?:[^"]|"")*+"|[^",]*+'
CSV_LINE = "\\A(?:{0})(?:,(?:{0}))*\\z".format(CSV_FIELD)
# JSON's own whitespace, the only text allowed around a record's object.
JSON_SPACE = re.compile("[ \t\n\r]*")
# Deeper records are unparseable: a fixed bound that both engines keep (Python's parser would otherwise stop near
# 1000 levels and JavaScript's much later).
JSON_MAX_DEPTH = 100
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Spark's mark of the column a watermark is on (EventTimeWatermark.delayKey): an aggregation finalizes its groups by
# the grouping column that carries it.
WATERMARK_DELAY = "spark.watermarkDelayMs"
WINDOW_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
SINK_QUERY = "sink"
REJECTS_QUERY = "rejects"


def main():
    parser = argparse.ArgumentParser(description="Runs one driftless pipeline.")
    parser.add_argument("--job", required=True, help="the job description as JSON (pipelines/job-spec.ts)")
    parser.add_argument("--date", help="batch only: the logical date YYYY-MM-DD to process (default: yesterday, UTC)")
    args = parser.parse_args()
    job = json.loads(args.job)
    spark = SparkSession.builder.appName("driftless-" + job["pipeline"]).getOrCreate()
    configure(spark)
    steps = read_steps(spark, job)
    # Registered before any stream starts: a streaming query's session is a copy that keeps these views.
    register_references(spark, job)
    if job["kind"] == "batch":
        run_batch(spark, job, steps, logical_date(args.date))
    elif job.get("window"):
        run_windowed_stream(spark, job, steps)
    else:
        run_accumulating_stream(spark, job, steps)


def configure(spark):
    """The session settings that the semantics depend on; the manifest sets them too, but a job must not rely on it."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")


def register_references(spark, job):
    """Each reference table as a view named by its `as`."""
    for reference in job["references"]:
        read_table(spark, reference["uri"], reference["format"], reference["as"]).createOrReplaceTempView(reference["as"])


def register_run_date(spark, day):
    """The day a batch run processes, as the view `run` (column `run_date`) that steps can compare records with."""
    spark.sql("SELECT DATE'{}' AS run_date".format(day.isoformat())).createOrReplaceTempView("run")


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


def read_table(spark, uri, fmt, name):
    """A reference table. CSV: the lines of its files, parsed as source records are (every column text), the first
    line naming the columns; every line equal to it is left out (each file starts with it), blank lines are
    skipped, and a malformed line stops the run."""
    if fmt != "csv":
        return spark.read.format(fmt).load(uri)
    lines = spark.read.text(uri).select(F.col("value").alias("_record")).where(F.trim("_record") != "")
    header = lines.first()
    if header is None:
        raise ValueError("{}: reference table '{}' has no header line".format(uri, name))
    columns = spark.range(1).select(csv_fields(F.lit(header[0]))).first()[0]
    if columns is None:
        raise ValueError("{}: malformed CSV header in reference table '{}': {}".format(uri, name, header[0]))
    rows = lines.where(F.col("_record") != header[0]).select("_record", csv_fields(F.col("_record")).alias("_fields"))
    bad = rows.where(F.col("_fields").isNull() | (F.size("_fields") != len(columns))).select("_record").first()
    if bad is not None:
        raise ValueError("{}: malformed CSV line in reference table '{}': {}".format(uri, name, bad[0]))
    return rows.select(*[field("_fields", i).alias(column or "") for i, column in enumerate(columns)])


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
    """The source topic as a stream of raw records: `_record`, the message value as text, and `_key`, where it
    stands (`<topic>-<partition>-<offset>`), which identifies it, and its dead letter, however often it is read."""
    source = job["source"]
    return (
        spark.readStream.format("kafka")
        .options(**kafka_options(job))
        .option("subscribe", source["topic"])
        .option("kafka.group.id", source["consumerGroup"])
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "true")
        .load()
        .select(
            F.col("value").cast("string").alias("_record"),
            F.format_string("%s-%d-%d", "topic", "partition", "offset").alias("_key"),
        )
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
            if spark.range(1).select(csv_fields(F.lit(header[0]))).first()[0] != names:
                raise ValueError("{}: the CSV header must be '{}', got '{}'".format(path, ",".join(names), header[0]))
            lines = lines.where(F.col("_record") != header[0])
    return lines


def parse(records, fmt, names):
    """Every field as text, `_record`, its `_key` (NULL for lines of a file), and `_parse_reason` for a record that
    cannot be split into fields."""
    text = F.col("_record")
    if "_key" not in records.columns:
        records = records.withColumn("_key", F.lit(None).cast("string"))
    if fmt == "parquet":
        return records.withColumn("_parse_reason", F.lit(None).cast("string"))
    if fmt == "json":
        fields, reason = json_fields(names)(text), "unparseable JSON"
    else:
        fields, reason = csv_fields(text), "malformed CSV line"
        fields = F.when(F.size(fields) == len(names), fields)
    # Computed once, then split: a Python function is not evaluated again for each field.
    split = records.select(text, "_key", fields.alias("_fields"))
    return split.select(
        *[field("_fields", i).alias(n) for i, n in enumerate(names)],
        text,
        "_key",
        F.when(F.col("_fields").isNull(), F.lit(reason)).alias("_parse_reason"),
    )


def field(fields, index):
    """The field at `index` (from 0) of an array column of fields, NULL past its end."""
    return F.try_element_at(F.col(fields), F.lit(index + 1))


def csv_fields(text):
    """The fields of a CSV line as an array of text (an unquoted empty field NULL, a quoted one without its quotes),
    or NULL for a line that is not RFC 4180. Written out because Spark's CSV parser reads a quoted empty field as
    NULL, keeps stray quotes and pads or cuts a line to the columns it expects."""
    # Each field follows a comma once one is put before the line, so no match is empty and none is skipped.
    fields = F.regexp_extract_all(F.concat(F.lit(","), text), F.lit(",(" + CSV_FIELD + ")"), 1)

    def value(field):
        unquoted = F.replace(field.substr(F.lit(2), F.length(field) - 2), F.lit('""'), F.lit('"'))
        return F.when(field == "", F.lit(None).cast("string")).when(field.startswith('"'), unquoted).otherwise(field)

    return F.when(text.rlike(CSV_LINE), F.transform(fields, value))


def json_fields(names):
    """A function of a column: the text of each named field of a record that is exactly one JSON object (JSON
    whitespace around it allowed), or NULL for any other record. A string field is its content; a number,
    boolean, object or array its JSON exactly as written; null and a missing field NULL; of repeated names the
    last counts. Python's JSON reader, not Spark's: Spark's accepts single quotes, NaN and text after the object,
    and rewrites numbers (1.10 as 1.1, 1e23 as 9.999999999999999E22 on Java 17), so a field's text would depend
    on the engine."""

    def refuse(constant):
        raise ValueError("not JSON: " + constant)

    def fields(text):
        if text is None:
            return None
        if fields.decoder is None:
            # Numbers stay text (as written, and no digit limit); NaN and Infinity are not JSON.
            fields.decoder = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=refuse)
        try:
            found = object_fields(fields.decoder, text)
        except (ValueError, StopIteration, RecursionError):
            return None
        if found is None:
            return None
        return [None if found.get(n) is None else LONE_SURROGATE.sub("\ufffd", found[n]) for n in names]

    fields.decoder = None
    # Without Arrow: the same path on the cluster and in the parity tests, and no pandas or pyarrow needed.
    return F.udf(fields, ArrayType(StringType()), useArrow=False)


def object_fields(decoder, text):
    """The members of the one JSON object that `text` holds, by name (see json_fields), or None."""
    if text.count("{") + text.count("[") > JSON_MAX_DEPTH and json_depth(text) > JSON_MAX_DEPTH:
        return None
    at = JSON_SPACE.match(text).end()
    if text[at : at + 1] != "{":
        return None
    found = {}
    at = JSON_SPACE.match(text, at + 1).end()
    if text[at : at + 1] == "}":
        at += 1
    else:
        while True:
            if text[at : at + 1] != '"':
                return None
            name, at = json.decoder.scanstring(text, at + 1, True)
            at = JSON_SPACE.match(text, at).end()
            if text[at : at + 1] != ":":
                return None
            start = JSON_SPACE.match(text, at + 1).end()
            value, at = decoder.scan_once(text, start)
            found[name] = value if text[start] == '"' else None if value is None else text[start:at]
            at = JSON_SPACE.match(text, at).end()
            at, separator = at + 1, text[at : at + 1]
            if separator == "}":
                break
            if separator != ",":
                return None
            at = JSON_SPACE.match(text, at).end()
    return found if JSON_SPACE.match(text, at).end() == len(text) else None


def json_depth(text):
    """How deeply a JSON text's objects and arrays nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[{\]}]', text, re.DOTALL):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


def check(spark, records, job, keep_key=False):
    """Valid typed records (the view `source`, with `window_start` for a windowed pipeline; with `keep_key`, also
    their `_key`) and the rejects (`_record`, `reject_reason`, `_key`) of the quality SQL and the parsing before it."""
    names = field_names(job)
    parsed = parse(records, job["source"]["format"], names)
    # The quality SQL passes `_record` through untouched, so a struct there carries the record's key along with it.
    carried = F.struct(F.col("_record").alias("text"), F.col("_key").alias("key")).alias("_record")
    parsed.where("_parse_reason IS NULL").select(*names, carried).createOrReplaceTempView("raw")
    typed = spark.sql(job["qualitySql"])
    rejects = parsed.where("_parse_reason IS NOT NULL").select("_record", F.col("_parse_reason").alias("reject_reason"), "_key")
    checked = typed.where("reject_reason IS NOT NULL").select(F.col("_record.text").alias("_record"), "reject_reason", F.col("_record.key").alias("_key"))
    rejects = rejects.unionByName(checked)
    valid = typed.where("reject_reason IS NULL").select(*names, *([F.col("_record.key").alias("_key")] if keep_key else []))
    window = job.get("window")
    if window:
        valid = valid.withColumn("window_start", F.date_trunc(window["unit"], F.col(window["column"])))
    return valid, rejects


def run_steps(spark, source, steps):
    """The last step's result over `source`, and the rows that steps rejected (the row as JSON, the reason, and as
    `_key` the step's view and the row's SHA-256: a step's row keeps nothing of where its records came from)."""
    source.createOrReplaceTempView("source")
    result, rejects = source, []
    for view, sql in steps:
        result = spark.sql(sql)
        if "reject_reason" in result.columns:
            kept = [c for c in result.columns if c != "reject_reason"]
            rejected = result.where("reject_reason IS NOT NULL").select(F.to_json(F.struct(*kept)).alias("_record"), "reject_reason")
            rejects.append(rejected.withColumn("_key", F.concat(F.lit(view + "-"), F.sha2("_record", 256))))
            result = result.where("reject_reason IS NULL").drop("reject_reason")
        result.createOrReplaceTempView(view)
    return result, rejects


def union(first, others):
    return functools.reduce(DataFrame.unionByName, others, first)


# ---------------------------------------------------------------- outputs


def sink_messages(job, rows):
    """Result rows as Kafka messages: the row as JSON, keyed by the JSON of the sink's `key` columns (in their order),
    so that a row sent again (a micro-batch that is retried) replaces itself in a compacted topic."""
    key = job["sink"].get("key", [])
    missing = [column for column in key if column not in rows.columns]
    if missing:
        raise ValueError("sink key column(s) {} are not in the last step's result ({})".format(", ".join(missing), ", ".join(rows.columns)))
    value = F.to_json(F.struct(*rows.columns)).alias("value")
    return rows.select(F.to_json(F.struct(*key)).alias("key"), value) if key else rows.select(value)


def reject_values(job, rejects):
    """Dead letters as JSON text: the record as it arrived (or the step's row), the reason, the pipeline, when; and as
    their key `_key` (see kafka_records and run_steps), the same for every copy of one dead letter."""
    return rejects.select(
        F.col("_key").alias("key"),
        F.to_json(
            F.struct(
                F.col("_record").alias("record"),
                "reject_reason",
                F.lit(job["pipeline"]).alias("pipeline"),
                F.current_timestamp().alias("rejected_at"),
            )
        ).alias("value"),
    )


def publish(job, messages, topic):
    messages.write.format("kafka").options(**kafka_options(job)).option("topic", topic).save()


def write_sink(job, rows):
    """A batch of results: JSON values to a topic, or Parquet overwriting exactly the partitions they fall in."""
    sink = job["sink"]
    if sink["type"] == "kafka":
        publish(job, sink_messages(job, rows), sink["topic"])
    else:
        rows.write.mode("overwrite").partitionBy(*sink.get("partitionBy", [])).parquet(sink["uri"])


def write_rejects(job, rejects, folder):
    """A batch of rejects: to the dead-letter topic, or as JSON lines replacing `folder` under the errors prefix."""
    location = job["rejects"]
    if location["type"] == "kafka":
        publish(job, reject_values(job, rejects), location["topic"])
    else:
        reject_values(job, rejects).select("value").write.mode("overwrite").text(join(location["uri"], folder))


def streaming(job, rows, name):
    """A writer for a query of this pipeline, with its own checkpoint folder."""
    return (
        rows.writeStream.queryName(job["pipeline"] + "-" + name)
        .outputMode("append")
        .trigger(processingTime="{} seconds".format(job["triggerSeconds"]))
        .option("checkpointLocation", join(job["checkpointUri"], name))
    )


def start_stream(job, rows, location, name):
    """A query writing `rows` (Kafka messages, Parquet rows, or dead letters as key and value) to `location`."""
    if location["type"] == "kafka":
        return streaming(job, rows, name).format("kafka").options(**kafka_options(job)).option("topic", location["topic"]).start()
    if name == SINK_QUERY:
        return streaming(job, rows, name).format("parquet").partitionBy(*location.get("partitionBy", [])).option("path", location["uri"]).start()
    return streaming(job, rows.select("value"), name).format("text").option("path", location["uri"]).start()


# ---------------------------------------------------------------- the three shapes


def run_batch(spark, job, steps, day):
    """One day's file; a re-run of the day replaces that day's output partitions and its rejects."""
    records = batch_records(spark, job, day).cache()
    register_run_date(spark, day)
    valid, rejects = check(spark, records, job)
    result, step_rejects = run_steps(spark, valid, steps)
    write_rejects(job, union(rejects, step_rejects), "date=" + day.isoformat())
    write_sink(job, result)


def run_windowed_stream(spark, job, steps):
    """Event-time windows: each finalized once no event that still counts can fall in it, and written once (append)."""
    result, dead_letters = windowed_outputs(spark, job, kafka_records(spark, job), steps)
    start_stream(job, result, job["sink"], SINK_QUERY)
    start_stream(job, dead_letters, job["rejects"], REJECTS_QUERY)
    commit_offsets_of(spark, job, SINK_QUERY)
    spark.streams.awaitAnyTermination()


def windowed_outputs(spark, job, records, steps):
    """What a windowed stream writes, given its raw records (`_record`, `_key`): the sink's rows (Kafka messages for a
    Kafka sink) and the dead letters (key and value)."""
    valid, rejects = check(spark, records, job, keep_key=True)
    result, step_rejects = run_steps(spark, on_time(valid, job), steps)
    if job["sink"]["type"] == "kafka":
        result = sink_messages(job, result)
    return result, reject_values(job, union(rejects, step_rejects))


def on_time(valid, job):
    """The records of a windowed stream that still count, with `window_start` as the column that finalizes windows.

    M is the latest event time of the valid records of earlier micro-batches, d is `watermarkMinutes`, u the window's
    length. A record counts if its event time is later than M - d, and is dropped otherwise; a window [W, W + u) is
    final, and written, once M - d >= W + u, when no record that still counts can fall in it. Spark's watermark is
    the latest value of one column minus a delay: on event time minus u, with delay d, it is M - u - d. Stateful
    operators drop the rows at or below it, so deduplicating on each record's unique key together with event time
    minus u drops exactly the late records (and nothing else; the state holds the keys of the last d minutes of event
    time). The aggregation in the steps groups by `window_start`, marked as the watermark's column, and so finalizes
    the window starting at W once W <= M - u - d. A watermark on `window_start` itself would lag M by up to u and drop
    records less than d late."""
    window = job["window"]
    length = WINDOW_SECONDS[window["unit"]]
    delay_ms = window["watermarkMinutes"] * 60 * 1000
    shifted = F.col(window["column"]) - F.expr("INTERVAL {} SECONDS".format(length))
    marked = valid.withColumn("_late_after", shifted).withWatermark("_late_after", "{} milliseconds".format(delay_ms))
    kept = marked.dropDuplicates(["_key", "_late_after"])
    fields = [c for c in valid.columns if c not in ("_key", "window_start")]
    return kept.select(*fields, F.col("window_start").alias("window_start", metadata={WATERMARK_DELAY: delay_ms}))


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
