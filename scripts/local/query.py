"""What a pipeline wrote, as JSON lines on stdout: `npm run local -- query` runs this with the local plane's settings.

    query.py '<json>'   {"kind": "parquet" | "text" | "kafka", "uri" | "topic", "kafka": {...}, "conf": {...}}

Parquet rows become objects of their columns; JSON lines (rejects in S3) and Kafka values (JSON) are printed as they
are, with a Kafka record's key added as `_key` when it has one. Rows are sorted, so that two queries of the same data
print the same text.
"""

import datetime
import decimal
import json
import sys

from pyspark.sql import SparkSession


def plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def main():
    request = json.loads(sys.argv[1])
    builder = SparkSession.builder.master("local[1]").appName("driftless-query")
    for key, value in request.get("conf", {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    kind = request["kind"]
    lines = []
    if kind == "parquet":
        for row in spark.read.parquet(request["uri"]).collect():
            lines.append(json.dumps({k: plain(v) for k, v in row.asDict().items()}, sort_keys=True))
    elif kind == "text":
        for row in spark.read.text(request["uri"]).collect():
            lines.append(row[0])
    else:
        kafka = request["kafka"]
        login = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="{}" password="{}";'.format(kafka["username"], kafka["password"])
        records = (
            spark.read.format("kafka")
            .option("kafka.bootstrap.servers", kafka["bootstrap"])
            .option("kafka.security.protocol", "SASL_SSL")
            .option("kafka.sasl.mechanism", "SCRAM-SHA-512")
            .option("kafka.sasl.jaas.config", login)
            .option("kafka.ssl.truststore.type", "PEM")
            .option("kafka.ssl.truststore.location", kafka["caFile"])
            .option("subscribe", request["topic"])
            .option("startingOffsets", "earliest")
            .option("endingOffsets", "latest")
            .load()
            .selectExpr("CAST(key AS STRING) AS key", "CAST(value AS STRING) AS value", "partition", "offset")
            .orderBy("partition", "offset")
            .collect()
        )
        for record in records:
            try:
                value = json.loads(record["value"])
            except (TypeError, ValueError):
                value = {"value": record["value"]}
            if isinstance(value, dict) and record["key"] is not None:
                value = {**value, "_key": record["key"]}
            lines.append(json.dumps(value, sort_keys=True))
    if kind != "kafka":
        lines.sort()
    sys.stdout.write("".join(line + "\n" for line in lines))
    spark.stop()


if __name__ == "__main__":
    main()
