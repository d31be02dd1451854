"""Checks the state of a stream without a window on local Spark, without Kafka: the temperature pipeline's
foreachBatch function (`driftless_runtime.accumulator`) driven directly, with static DataFrames of generated
readings standing in for micro-batches.

    <python with pyspark> pipelines/runtime/accumulate_check.py [--quick] [--keep]

It checks, against plain Python over the same readings (exact decimal arithmetic):
  1. mean, mode and count per station and year are exact after many micro-batches;
  2. a micro-batch run again with the same id (as Spark does after a crash before its commit) leaves the same
     state and the same sink, and nothing is counted twice;
  3. a driver killed with SIGKILL in the middle of a micro-batch (after it wrote part of its output, before it
     finished) and a new driver running that batch id again give exact results;
  4. how long a 10,000-reading micro-batch takes after 100,000 and after 1,000,000 readings of history.
It prints what it measured and exits non-zero if a check fails. The job description is the one the platform
builds for the temperature pipeline (pipelines/job-spec.ts, through Node and tsx), with local folders as its
sink, checkpoint and dead letters. Everything it writes is under one temporary folder, deleted at the end.
"""

import argparse
import collections
import datetime
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
# Spark's Python workers unpickle the runtime's UDFs (its JSON reader), so they must find the module too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [HERE, os.environ.get("PYTHONPATH")] if p)

import driftless_runtime as runtime  # noqa: E402

PIPELINE = "temperature"
STATIONS = ["S{:02d}".format(n) for n in range(50)]
YEARS = list(range(2019, 2025))
LATEST = YEARS[-1]

JOB_SCRIPT = """
import { loadEnvironments } from %(environments)s;
import { jobSpec } from %(jobSpec)s;
import { loadPipelines } from %(pipelines)s;
void (async () => {
  const [env] = await loadEnvironments();
  const pipeline = (await loadPipelines()).find((p) => p.name === %(pipeline)s);
  process.stdout.write(JSON.stringify(jobSpec(env!, pipeline!)));
})();
"""


def platform_job(scratch):
    """The job description the platform renders for the pipeline (its first environment), as JSON text."""
    script = os.path.join(scratch, "job.ts")
    with open(script, "w") as out:
        out.write(JOB_SCRIPT % {
            "environments": json.dumps(os.path.join(REPO, "environments", "load")),
            "jobSpec": json.dumps(os.path.join(REPO, "pipelines", "job-spec")),
            "pipelines": json.dumps(os.path.join(REPO, "pipelines", "load")),
            "pipeline": json.dumps(PIPELINE),
        })
    return subprocess.run(["node", "--import", "tsx", script], cwd=REPO, check=True, capture_output=True, text=True).stdout


def local_job(job_text, folder):
    """The job with its code read from the repository and its outputs in `folder`."""
    job = json.loads(job_text)
    uri = "file://" + folder
    job["codeUri"] = "file://" + os.path.join(REPO, "pipelines", PIPELINE) + "/"
    job["sink"]["uri"] = uri + "/sink"
    job["checkpointUri"] = uri + "/checkpoint"
    job["rejects"] = {"type": "s3", "uri": uri + "/rejects"}
    return job


def session(scratch, name):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("driftless-accumulate-check-" + name)
        .config("spark.driver.memory", "3g")
        .config("spark.ui.enabled", "false")
        .config("spark.local.dir", os.path.join(scratch, "spark-local"))
        .config("spark.ui.showConsoleProgress", "false")
        # As in a streaming query, whose micro-batches Spark runs without adaptive execution.
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # As the runtime's main() sets them.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    return spark


# ---------------------------------------------------------------- readings and what they must give


def readings(seed, count, years=YEARS, stations=STATIONS, bad_every=97):
    """`count` messages: JSON readings of one-decimal temperatures, and every `bad_every`-th a bad one."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        if index % bad_every == bad_every - 1:
            records.append(rng.choice(["not json", '{"station":"S01","measured_at":"2024-01-01T00:00:00Z","temperature":75.5}']))
            continue
        year = rng.choice(years)
        moment = datetime.datetime(year, 1, 1) + datetime.timedelta(seconds=rng.randrange(365 * 86400))
        tenths = int(rng.gauss(100, 120))
        tenths = max(-900, min(600, tenths))
        text = "{}{}.{}".format("-" if tenths < 0 else "", abs(tenths) // 10, abs(tenths) % 10)
        records.append('{{"station":"{}","measured_at":"{}Z","temperature":{}}}'.format(rng.choice(stations), moment.isoformat(), text))
    return records


def expected(messages):
    """Mean, mode (lowest on a tie) and count per station and year, in exact arithmetic, from the valid readings."""
    frequencies = collections.defaultdict(collections.Counter)
    for message in messages:
        try:
            reading = json.loads(message, parse_float=Decimal)
        except ValueError:
            continue
        temperature = Decimal(reading["temperature"])
        if not Decimal(-90) <= temperature <= Decimal(60):
            continue
        frequencies[(reading["station"], int(reading["measured_at"][:4]))][temperature] += 1
    result = {}
    for key, counts in frequencies.items():
        count = sum(counts.values())
        total = sum(temperature * times for temperature, times in counts.items())
        mode = min(counts, key=lambda temperature: (-counts[temperature], temperature))
        # float(Fraction) is the double nearest to the exact mean, as one IEEE division of exact integers is.
        result[key] = (float(Fraction(total) / count), float(mode), count)
    return result


def sink_rows(spark, job):
    rows = spark.read.parquet(job["sink"]["uri"]).collect()
    return {(r["station"], r["year"]): (r["mean_temperature"], r["mode_temperature"], r["readings"]) for r in rows}


def kept_state(spark, job, batch_id):
    """Manifest `batch_id` and the state rows it names, sorted: what a replay must leave unchanged."""
    store = runtime.StateStore(spark, runtime.join(job["sink"]["uri"], "_state"))
    manifest = store.manifest(batch_id)
    paths = [runtime.join(store.uri, "batch_id={}".format(v), "_bucket={}".format(b)) for b, v in manifest.buckets.items()]
    rows = sorted(tuple(r) for r in spark.read.parquet(*paths).collect()) if paths else []
    return manifest.buckets, rows


def batch_frame(spark, messages):
    frame = spark.createDataFrame([(m,) for m in messages], "_record STRING")
    frame.persist()
    frame.count()  # generated here, not read from Kafka: kept out of the micro-batch's time
    return frame


def compare(name, actual, wanted):
    if actual == wanted:
        print("ok   {}: {} station-years exact".format(name, len(wanted)))
        return True
    missing = sorted(set(wanted) - set(actual))[:3]
    extra = sorted(set(actual) - set(wanted))[:3]
    wrong = [(k, actual[k], wanted[k]) for k in sorted(set(actual) & set(wanted)) if actual[k] != wanted[k]][:3]
    print("FAIL {}: missing {}, unexpected {}, wrong (actual, wanted) {}".format(name, missing, extra, wrong))
    return False


# ---------------------------------------------------------------- the checks


class Stream:
    """One stream of the pipeline with a folder of its own, fed micro-batch by micro-batch; remembers what it was fed."""

    def __init__(self, spark, job_text, folder):
        self.spark = spark
        self.job = local_job(job_text, folder)
        self.each_batch = runtime.accumulator(spark, self.job, runtime.read_steps(spark, self.job))
        self.fed = []
        self.next_id = 0

    def feed(self, messages, batch_id=None):
        """Runs one micro-batch (the next id, or `batch_id` to run one again); returns how long it took."""
        batch_id = self.next_id if batch_id is None else batch_id
        frame = batch_frame(self.spark, messages)
        started = time.monotonic()
        self.each_batch(frame, batch_id)
        took = time.monotonic() - started
        if batch_id == self.next_id:
            self.fed += messages
            self.next_id += 1
        return took

    def check(self, name):
        return compare(name, sink_rows(self.spark, self.job), expected(self.fed))


def history_and_timing(spark, job_text, scratch, histories, timed, spread_timed):
    """For each history (readings, micro-batches): a stream fed that many readings; then 10,000-reading micro-batches
    timed on each stream in turn, so that a change in the machine's load falls on all of them alike."""
    streams, ok = {}, True
    for history, batches in histories:
        stream = streams[history] = Stream(spark, job_text, os.path.join(scratch, "history-{}".format(history)))
        started = time.monotonic()
        for index in range(batches):
            stream.feed(readings(seed=history + index, count=history // batches))
        print("     {:,} readings of history in {} micro-batches: {:.0f} s".format(history, batches, time.monotonic() - started), flush=True)

    # The same batch id twice, as Spark runs it again when the driver died before the commit.
    stream = streams[histories[0][0]]
    messages = readings(seed=-1, count=10_000, years=[LATEST])
    stream.feed(messages)
    replayed = stream.next_id - 1
    first = kept_state(spark, stream.job, replayed), sink_rows(spark, stream.job)
    stream.feed(messages, batch_id=replayed)
    same = (kept_state(spark, stream.job, replayed), sink_rows(spark, stream.job)) == first
    print("{} replayed batch {}: the same state ({:,} rows) and sink".format("ok  " if same else "FAIL", replayed, len(first[0][1])), flush=True)
    ok &= same

    durations = {history: {} for history in streams}
    for label, years, count in (("current year", [LATEST], timed), ("all years", YEARS, spread_timed)):
        for attempt in range(count):
            for history, stream in streams.items():
                took = stream.feed(readings(seed=history * 7 + stream.next_id, count=10_000, years=years))
                durations[history].setdefault(label, []).append(took)
    for history, stream in streams.items():
        ok &= stream.check("after {:,} readings of history and {} micro-batches more".format(history, timed + spread_timed))
        store = os.path.join(stream.job["sink"]["uri"][len("file://"):], "_state")
        print("     state folder: {} versions, {} manifests".format(
            len([n for n in os.listdir(store) if n.startswith("batch_id=")]), len([n for n in os.listdir(os.path.join(store, "_manifests")) if n.endswith(".json")])))
    return ok, durations


def crash_readings(batch_id, size):
    return readings(seed=1000 + batch_id, count=size, years=YEARS[-2:], stations=STATIONS[:5])


def crash_child(scratch, folder, batches, size):
    """Runs in a process of its own: batches 0..`batches`-1; the parent kills it during the last one."""
    spark = session(scratch, "child")
    job = local_job(open(os.path.join(scratch, "job.json")).read(), folder)
    each_batch = runtime.accumulator(spark, job, runtime.read_steps(spark, job))
    for batch_id in range(batches):
        each_batch(batch_frame(spark, crash_readings(batch_id, size)), batch_id)


def crash_and_replay(spark, job_text, scratch, marker, batches=6, size=5_000):
    """Kills a driver with SIGKILL once `marker` (a path under the state folder) shows that the last micro-batch has
    written part of its output, then runs that batch id and two more on this driver and checks exact results."""
    folder = os.path.join(scratch, "crash-" + marker.replace("/", "-").replace("{}", "last"))
    crashed = batches - 1
    watched = os.path.join(folder, "sink", "_state", marker.format(crashed))
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", folder, "--batches", str(batches), "--size", str(size), "--scratch", scratch],
        start_new_session=True,  # its own process group: the kill takes the driver and its JVM at once
    )
    deadline = time.monotonic() + 600
    while not os.path.exists(watched) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    if child.poll() is not None:
        print("FAIL crash at {}: the driver ended (code {}) before it was killed".format(marker, child.returncode))
        return False
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    sink = os.path.join(folder, "sink")
    print("     killed in batch {} once {} existed; manifest {}: {}; sink partitions: {}".format(
        crashed, marker.format(crashed), crashed, os.path.exists(os.path.join(folder, "sink", "_state", "_manifests", "{}.json".format(crashed))),
        sum(len(os.listdir(os.path.join(sink, d))) for d in os.listdir(sink) if d.startswith("station=")) if os.path.isdir(sink) else 0))
    job = local_job(job_text, folder)
    each_batch = runtime.accumulator(spark, job, runtime.read_steps(spark, job))
    fed = [m for batch_id in range(crashed) for m in crash_readings(batch_id, size)]
    for batch_id in range(crashed, crashed + 3):
        messages = crash_readings(batch_id, size)
        each_batch(batch_frame(spark, messages), batch_id)
        fed += messages
    return compare("replayed after SIGKILL once {} existed".format(marker.format(crashed)), sink_rows(spark, job), expected(fed))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 readings of history only, no 1,000,000")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and say where it is")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        crash_child(args.scratch, args.child, args.batches, args.size)
        return 0

    scratch = tempfile.mkdtemp(prefix="driftless-accumulate-")
    try:
        job_text = platform_job(scratch)
        with open(os.path.join(scratch, "job.json"), "w") as out:
            out.write(job_text)
        spark = session(scratch, "main")
        ok = True
        # Killed while writing the state of its last batch, and after the state and manifest but before the end.
        ok &= crash_and_replay(spark, job_text, scratch, "batch_id={}")
        ok &= crash_and_replay(spark, job_text, scratch, "_manifests/{}.json")
        histories = ((100_000, 2),) + (() if args.quick else ((1_000_000, 10),))
        passed, timings = history_and_timing(spark, job_text, scratch, histories, timed=5, spread_timed=3)
        ok &= passed
        print("\nmicro-batch of 10,000 readings (median of the runs, seconds each):")
        for history, durations in timings.items():
            for label, values in durations.items():
                print("  after {:>9,} readings, {:<12}: {:.2f} s  ({})".format(history, label, statistics.median(values), ", ".join("{:.2f}".format(v) for v in values)))
        if len(timings) == 2:
            for label in timings[100_000]:
                ratio = statistics.median(timings[1_000_000][label]) / statistics.median(timings[100_000][label])
                within = ratio <= 1.5
                ok &= within
                print("{} {}: 1,000,000 / 100,000 = {:.2f} (at most 1.5)".format("ok  " if within else "FAIL", label, ratio))
        spark.stop()
        print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
        return 0 if ok else 1
    finally:
        if args.keep:
            print("kept " + scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
