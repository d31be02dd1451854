"""Runs the runtime's own parsing, quality checks and SQL steps on a static set of records, for comparison with the
DuckDB mirror (pipelines/sql-harness.ts, pipelines/parity.engines.test.ts). Streaming mechanics stay out, as in
the mirror: every record is seen at once.

    evaluate.py --job job.json --records records.txt [--date YYYY-MM-DD]
    evaluate.py --cases cases.json      (a JSON array of {"job": {...}, "records": path, "date"?: "YYYY-MM-DD"})

The job is a job description (pipelines/job-spec.ts) whose codeUri is the local folder of the step files and whose
references are local files. The records file holds one record a line: the lines of the day's file for a batch, the
message values for a stream. Prints, per case, JSON: the valid typed `source` rows, the rejects of parsing and
quality checks, and each step's rows and rejects, or `error` if the run stops. Values are normalized so that both
engines' outputs compare as they are: timestamps ISO 8601 in UTC with microseconds, dates ISO, numbers as JSON
numbers (NaN and the infinities as strings), a table's columns with the kind of value they hold.
"""

import argparse
import json
import math
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driftless_runtime as runtime  # noqa: E402  (found beside this file)


def main():
    parser = argparse.ArgumentParser(description="Runs a pipeline's parsing, checks and steps on local records.")
    parser.add_argument("--job", help="a file holding the job description as JSON")
    parser.add_argument("--records", help="a file of raw records, one a line")
    parser.add_argument("--date", help="batch: the logical date YYYY-MM-DD that the steps see as run.run_date")
    parser.add_argument("--cases", help="a file holding a JSON array of cases: {job, records, date?}")
    args = parser.parse_args()
    if args.cases:
        with open(args.cases) as file:
            cases = json.load(file)
    elif args.job and args.records:
        with open(args.job) as file:
            cases = [{"job": json.load(file), "records": args.records, "date": args.date}]
    else:
        parser.error("give --cases, or --job and --records")
    spark = (
        SparkSession.builder.master(os.environ.get("DRIFTLESS_SPARK_MASTER", "local[2]"))
        .appName("driftless-evaluate")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # The Python workers import the runtime by name when they run its JSON reader.
    spark.sparkContext.addPyFile(runtime.__file__)
    runtime.configure(spark)
    results = [evaluate(spark, case["job"], case["records"], case.get("date")) for case in cases]
    spark.stop()
    json.dump(results if args.cases else results[0], sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


def evaluate(spark, job, records_file, date):
    """One case: the runtime's view `source`, its rejects and each step's result, or the error that stopped it."""
    for view in spark.catalog.listTables():
        if view.isTemporary:
            spark.catalog.dropTempView(view.name)
    try:
        return run(spark, job, records_file, date)
    except ValueError as error:
        # What the runtime refuses (a header that names other fields, a malformed reference table) stops the run.
        return {"error": str(error)}


def run(spark, job, records_file, date):
    runtime.register_references(spark, job)
    steps = runtime.read_steps(spark, job)
    if job["kind"] == "batch":
        day = runtime.logical_date(date)
        runtime.register_run_date(spark, day)
        # The runtime's own reading of the day's file: blank lines skipped, the CSV header checked and left out.
        folder, name = os.path.split(os.path.abspath(records_file))
        job = {**job, "source": {**job["source"], "uri": folder, "file": name}}
        records = runtime.batch_records(spark, job, day)
    else:
        # Message values: every line is one, blank or not.
        records = spark.read.text(records_file).select(F.col("value").alias("_record"))
    valid, rejects = runtime.check(spark, records, job)
    _, step_rejects = runtime.run_steps(spark, valid, steps)
    # run_steps gives the rejects of each step that has a reject_reason column, in order.
    rejecting = iter(step_rejects)
    results = []
    for view, sql in steps:
        own = [next(rejecting)] if "reject_reason" in spark.sql(sql).columns else []
        results.append({"view": view, **table(spark.table(view)), "rejects": reject_list(own)})
    return {"source": table(valid), "rejects": reject_list([rejects]), "steps": results}


def reject_list(frames):
    rows = []
    for frame in frames:
        rows.extend({"record": row[0], "reject_reason": row[1]} for row in frame.select("_record", "reject_reason").collect())
    return rows


def table(frame):
    """Columns (name and kind of value) and rows, with values that compare with the DuckDB mirror's."""
    columns = [{"name": field.name, "kind": kind(field.dataType)} for field in frame.schema.fields]
    normalized = frame.select(*[normalize(field) for field in frame.schema.fields])
    return {"columns": columns, "rows": [{c["name"]: plain(value) for c, value in zip(columns, row)} for row in normalized.collect()]}


def kind(data_type):
    if isinstance(data_type, T.StringType):
        return "string"
    if isinstance(data_type, T.BooleanType):
        return "boolean"
    if isinstance(data_type, T.NumericType):
        return "number"
    if isinstance(data_type, T.DateType):
        return "date"
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return "timestamp"
    return "other"


def normalize(field):
    """Dates and timestamps as text made by Spark in the UTC session (Python's datetime would apply the local zone)."""
    column = F.col("`{}`".format(field.name))
    if isinstance(field.dataType, T.DateType):
        return F.date_format(column, "yyyy-MM-dd")
    if isinstance(field.dataType, (T.TimestampType, T.TimestampNTZType)):
        return F.date_format(column, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
    return column


def plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if hasattr(value, "is_finite"):  # a Decimal: compared as the number it is
        return float(value)
    return value


if __name__ == "__main__":
    main()
