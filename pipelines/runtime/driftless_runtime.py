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
    """Results over every record so far, each micro-batch at the cost of its own records: see `accumulator`."""
    streaming(job, kafka_records(spark, job), SINK_QUERY).foreachBatch(accumulator(spark, job, steps)).start()
    commit_offsets_of(spark, job, SINK_QUERY)
    spark.streams.awaitAnyTermination()


# ---------------------------------------------------------------- the state of a stream without a window

# How `state.merge` combines a measure of the kept state with the same key's measure in a micro-batch.
MERGES = {"sum": F.sum, "min": F.min, "max": F.max}
# Sums of these stay exact whatever order the rows are added in; a sum of doubles does not.
EXACT_TYPES = ("byte", "short", "integer", "long", "decimal")
# The runtime's column and folder for a bucket of sink partitions; the state step may return no column named '_...'.
BUCKET = "_bucket"


def accumulator(spark, job, steps):
    """The function each micro-batch of a stream without a window runs (`foreachBatch(accumulator(...))`).

    The first step turns a micro-batch's valid records into state rows: per key, measures that `state.merge` says
    how to combine (sum, min, max). The runtime keeps the state of every record so far, merged per key, split into
    buckets by the sink's partition columns; a micro-batch reads only the buckets it touches, merges its rows into
    them, and runs the later steps over those to overwrite exactly the sink partitions they hold. So its cost follows
    its own records and the state of its partitions (bounded by distinct keys), never the number of records so far.

    Exactly once with Spark's checkpoint: the state a micro-batch writes is a new version named by its batch id,
    computed from the versions the previous batch id left, and a manifest per batch id says which version of each
    bucket holds the state. A batch that is run again after a crash (same id, same records: Spark logs its offsets
    before running it) recomputes the same state from the same versions and overwrites what its first attempt wrote.
    """
    sink = job["sink"]
    partitions = sink.get("partitionBy", [])
    merge = job["state"]["merge"]
    (state_view, _), later = steps[0], steps[1:]
    # A micro-batch is small, and Spark turns adaptive execution off in streaming queries: each shuffle would otherwise
    # run 200 tiny tasks (the default), which alone outlasts a 10 s trigger on a few cores. A job that sets it keeps it.
    if not spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        spark.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))
    # Where the sink writes its partitions (a folder readers of the sink skip, '_'): the state writes a file per touched
    # partition too, so it belongs on the same store. Without partitions (a Kafka sink, or one overwritten whole, which
    # would take the folder with it) the state is one file per micro-batch, beside the checkpoint.
    store = StateStore(spark, join(sink["uri"], "_state") if partitions else join(job["checkpointUri"], "state"))
    # Checked before the first micro-batch, on no records: a spec that does not fit its SQL stops the job at once.
    problems = state_problems(job, state_rows(spark, spark.createDataFrame([], "_record STRING"), job, steps)[0].schema)
    if problems:
        raise ValueError("\n".join(problems))

    def each_batch(batch, batch_id):
        session = batch.sparkSession
        batch.persist()
        rows, rejects = state_rows(session, batch, job, steps)
        write_rejects(job, rejects, "batch_id={}".format(batch_id))
        described = describe_state(rows.schema, partitions, merge)
        previous = store.manifest(batch_id - 1) if batch_id > 0 else Manifest(described, {}, [])
        if previous is None:
            raise ValueError(
                "{}: the state of batch {} is missing while the checkpoint is at batch {}: restore it, or delete {} to recompute "
                "everything from the earliest offsets".format(store.manifest_uri(batch_id - 1), batch_id - 1, batch_id, job["checkpointUri"])
            )
        if previous.state != described:
            raise ValueError(
                "{}: 'state' must describe the state kept under {} ({}), which cannot be merged with rows of another shape, key or "
                "merge: delete that folder and {} to recompute everything from the earliest offsets, got {}".format(
                    spec_file(job), store.uri, json.dumps(previous.state), job["checkpointUri"], json.dumps(described)
                )
            )
        rows = rows.withColumn(BUCKET, bucket_of(partitions)).persist()
        touched = sorted(row[0] for row in rows.select(BUCKET).distinct().collect())
        buckets = dict(previous.buckets)
        replaced = [[bucket, buckets[str(bucket)]] for bucket in touched if str(bucket) in buckets]
        if touched:
            kept = store.read(session, rows.drop(BUCKET).schema, {bucket: buckets.get(str(bucket)) for bucket in touched})
            merged = merged_state(rows.unionByName(kept.withColumn(BUCKET, bucket_of(partitions))), merge).persist()
            store.write(merged, batch_id)
            buckets.update({str(bucket): batch_id for bucket in touched})
        store.write_manifest(batch_id, Manifest(described, buckets, replaced))
        if touched:
            session.catalog.dropTempView("source")
            write_sink(job, later_steps(session, job, merged.drop(BUCKET), state_view, later))
            merged.unpersist()
        store.clean(batch_id, previous)
        rows.unpersist()
        batch.unpersist()

    return each_batch


def spec_file(job):
    return "pipelines/{0}/pipeline.ts: pipeline '{0}'".format(job["pipeline"])


def state_rows(session, records, job, steps):
    """The first step over a micro-batch's valid records, and every reject so far (parsing, quality, that step)."""
    valid, rejects = check(session, records, job)
    rows, step_rejects = run_steps(session, valid, steps[:1])
    return rows, union(rejects, step_rejects)


def state_problems(job, schema):
    """Why the first step's result cannot be kept as the state the spec declares, one line each (nothing if it can)."""
    step = job["steps"][0]
    types = {field.name: field.dataType for field in schema.fields}
    returned = "{} returns ({})".format(step, ", ".join(types))
    problems = []
    for column, how in job["state"]["merge"].items():
        if column not in types:
            problems.append("{}: 'state.merge' must name only columns that {}, got {}".format(spec_file(job), returned, json.dumps(column)))
        elif how == "sum" and types[column].typeName() not in EXACT_TYPES:
            problems.append(
                "{}: 'state.merge.{}' may be 'sum' only for a whole-number or DECIMAL column ({} returns {}, whose sum depends on "
                "the order of addition, so a replayed or differently split micro-batch would change it): cast it to DECIMAL in the "
                "step, got \"sum\"".format(spec_file(job), column, step, types[column].simpleString())
            )
    for column in job["sink"].get("partitionBy", []):
        if column not in types:
            problems.append(
                "{}: 'sink.partitionBy' must name only columns that {}, the state, which is kept per sink partition, got {}".format(
                    spec_file(job), returned, json.dumps(column)
                )
            )
    for column in types:
        if column.startswith("_"):
            problems.append("{}: 'steps.0' must return no column whose name starts with '_' (the runtime's own), got {}".format(spec_file(job), json.dumps(column)))
    return problems


def describe_state(schema, partitions, merge):
    """What the kept state was made by: a different description means it cannot be merged with (checked per batch)."""
    columns = [[field.name, field.dataType.simpleString()] for field in schema.fields]
    return {"columns": columns, "partitionBy": list(partitions), "merge": dict(merge)}


def bucket_of(partitions):
    """The bucket of a row: a hash of its sink partition values (one bucket without partitions). Murmur3, which Spark's
    bucketed tables depend on, so it stays the same across Spark versions; two partitions that share a bucket are
    read and written together, so a collision costs work, never correctness. A hash, not the values, names the
    folder: values of any type would need the exact escaping of the engine's partition paths."""
    return F.hash(*partitions) if partitions else F.lit(0)


def merged_state(rows, merge):
    """Rows of the same key made one: measures combined as `merge` says, in the type the state step returns them."""
    keys = [column for column in rows.columns if column not in merge]
    if not merge:
        return rows.distinct()
    measures = [MERGES[how](column).cast(rows.schema[column].dataType).alias(column) for column, how in merge.items()]
    return rows.groupBy(*keys).agg(*measures).select(*rows.columns)


def later_steps(session, job, state, state_view, later):
    """The steps after the first over the merged state of the touched partitions (the view named after the first step).
    They must compute each sink partition from its own state rows alone; `source` is gone, as they would otherwise
    see one micro-batch where they mean every record so far."""
    state.createOrReplaceTempView(state_view)
    result = state
    for index, (view, sql) in enumerate(later, start=1):
        result = session.sql(sql)
        if "reject_reason" in result.columns:
            # They see every kept row again in each micro-batch: their rejects would repeat without end.
            raise ValueError(
                "{}: 'steps.{}' must not return reject_reason: only the first step of a stream without a window may reject "
                "rows, got {}".format(spec_file(job), index, json.dumps(job["steps"][index]))
            )
        result.createOrReplaceTempView(view)
    return result


class Manifest:
    """The state after a micro-batch: what made it (`describe_state`), the version of each bucket (keyed by the bucket's
    number as text, as JSON keys are), and the [bucket, version] pairs the batch replaced, deleted once it is committed."""

    def __init__(self, state, buckets, replaced):
        self.state = state
        self.buckets = buckets
        self.replaced = replaced


class StateStore:
    """The kept state of a stream without a window, in versions named by batch id:

        <uri>/batch_id=<N>/_bucket=<h>/*.parquet   the state rows of bucket h as batch N left them
        <uri>/_manifests/<N>.json                 after batch N: the version of every bucket, and the
                                                  versions batch N replaced (deleted once N is committed)

    Batch N reads manifest N-1 only, never a listing, so a stale version from an earlier run of the query (whose
    checkpoint was deleted) is never read, only overwritten or deleted. Manifests are written from the driver with
    the Hadoop file system that Spark uses (HDFS, S3A): one small file per micro-batch, read only after its batch
    was committed, and rewritten whole if that batch is run again.
    """

    def __init__(self, spark, uri):
        self.uri = uri
        # Looked up once: each step of a JVM class name is a round trip to the JVM.
        self._path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path
        self._fs = self._path(uri).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def _version(self, batch_id):
        return join(self.uri, "batch_id={}".format(batch_id))

    def manifest_uri(self, batch_id):
        return join(self.uri, "_manifests", "{}.json".format(batch_id))

    def manifest(self, batch_id):
        path = self._path(self.manifest_uri(batch_id))
        if not self._fs.exists(path):
            return None
        stream = self._fs.open(path)
        try:
            return Manifest(**json.loads(bytes(stream.readAllBytes()).decode("utf-8")))
        finally:
            stream.close()

    def write_manifest(self, batch_id, manifest):
        stream = self._fs.create(self._path(self.manifest_uri(batch_id)), True)
        try:
            stream.write(bytearray(json.dumps(vars(manifest), sort_keys=True).encode("utf-8")))
        finally:
            stream.close()

    def read(self, session, schema, versions):
        """The state rows of the given buckets at the given versions (None: a bucket that has no state yet)."""
        paths = [join(self._version(version), "{}={}".format(BUCKET, bucket)) for bucket, version in versions.items() if version is not None]
        return session.read.schema(schema).parquet(*paths) if paths else session.createDataFrame([], schema)

    def write(self, merged, batch_id):
        # Replaces the whole version, whatever an interrupted attempt of this batch left in it (one file per bucket).
        folder = self._version(batch_id)
        merged.repartition(BUCKET).write.mode("overwrite").option("partitionOverwriteMode", "static").partitionBy(BUCKET).parquet(folder)

    def clean(self, batch_id, previous):
        """Deletes what no run of batch `batch_id` or later can read: versions that batch `batch_id` - 1 replaced (it is
        committed, or this batch would not run), versions no bucket of manifest `batch_id` - 1 names, older manifests."""
        for bucket, version in previous.replaced:
            self._fs.delete(self._path(join(self._version(version), "{}={}".format(BUCKET, bucket))), True)
        live = set(previous.buckets.values())
        for name, number in self._numbered(self.uri, r"batch_id=(\d+)"):
            if number < batch_id and number not in live:
                self._fs.delete(self._path(join(self.uri, name)), True)
        for name, number in self._numbered(join(self.uri, "_manifests"), r"(\d+)\.json"):
            if number < batch_id - 1:
                self._fs.delete(self._path(join(self.uri, "_manifests", name)), True)

    def _numbered(self, uri, pattern):
        path = self._path(uri)
        if not self._fs.exists(path):
            return []
        names = [status.getPath().getName() for status in self._fs.listStatus(path)]
        return [(name, int(match.group(1))) for name, match in ((name, re.fullmatch(pattern, name)) for name in names) if match]


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
