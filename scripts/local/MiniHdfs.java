/*
 * HDFS for the local data plane: one namenode and N datanodes in this JVM, on 127.0.0.1, with the data kept in
 * --dir across restarts. Run in source-file mode (no build step), with the jars from the pinned toolchain:
 *
 *   java -Xmx256m -cp '<jars>/*' scripts/local/MiniHdfs.java --dir <base> --rpc-port N --http-port N --datanodes 3 --replication R
 *
 * Why MiniDFSCluster and not the real daemons: it is the real NameNode and DataNode code, but in one JVM (one heap,
 * not four, on a laptop) and from one shaded artifact (hadoop-client-minicluster plus the client jars Spark already
 * ships) instead of the hundred-odd unshaded jars of hadoop-hdfs. What it adds for tests is switched off or steered
 * here: it deletes its base directory when it shuts down, so it gets a scratch folder of its own and the name and
 * data directories live outside it; it skips fsync of the edit log unless told not to.
 *
 * Layout of --dir: namenode/ (the namespace), datanode-<i>/ (blocks), minidfs/ and tmp/ (scratch), and ready.json
 * while the cluster is up. The namespace is formatted only when namenode/ holds none yet.
 *
 * --replication is the namenode's and WebHDFS's default; a Hadoop client writes with its own dfs.replication (3 unless
 * set), so the jobs' configuration has to carry the same number.
 *
 * hdfs.ts starts and stops this program and takes the cluster as ready when the namenode's JMX says so and ready.json
 * is there.
 */
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.protocol.HdfsConstants.SafeModeAction;
import sun.misc.Signal;

public class MiniHdfs {
  private static final String USAGE =
      "usage: java -cp <jars> MiniHdfs.java --dir <base> --rpc-port <n> --http-port <n> --datanodes <n> --replication <n>";

  /** A mistake on the command line: one line on stderr, exit code 2. */
  private static final class UsageError extends Exception {
    UsageError(String message) {
      super(message);
    }
  }

  public static void main(String[] args) throws Exception {
    quietDefaults();
    Map<String, String> options;
    try {
      options = parse(args);
    } catch (UsageError e) {
      System.err.println("MiniHdfs: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    Path base = Path.of(options.get("dir")).toAbsolutePath().normalize();
    int rpcPort = Integer.parseInt(options.get("rpc-port"));
    int httpPort = Integer.parseInt(options.get("http-port"));
    int datanodes = Integer.parseInt(options.get("datanodes"));
    int replication = Integer.parseInt(options.get("replication"));

    // TERM and INT only count down the latch: the main thread then stops the nodes in order and exits 0. A signal
    // during start-up is honoured once the cluster is up, so a half-started namespace is never left behind.
    CountDownLatch stopRequested = new CountDownLatch(1);
    for (String name : List.of("TERM", "INT")) {
      Signal.handle(new Signal(name), signal -> stopRequested.countDown());
    }

    Path ready = base.resolve("ready.json");
    Files.createDirectories(base);
    Files.deleteIfExists(ready);
    Path nameDir = base.resolve("namenode");
    boolean format = !Files.exists(nameDir.resolve("current/VERSION"));
    if (format) {
      // Blocks from an earlier, unfinished first start belong to another cluster id and would keep the datanodes out.
      for (int i = 1; i <= datanodes; i++) {
        deleteTree(base.resolve("datanode-" + i));
      }
    }

    long started = System.nanoTime();
    MiniDFSCluster cluster;
    try {
      cluster = start(base, nameDir, format, rpcPort, httpPort, datanodes, replication);
    } catch (Exception e) {
      e.printStackTrace();
      // Last, so that the end of the log (which is what hdfs.ts shows) says why.
      System.err.println("MiniHdfs: HDFS in " + base + " did not start: " + e);
      System.exit(1);
      return;
    }
    long readyMillis = (System.nanoTime() - started) / 1_000_000;

    String json = String.format(
        "{\"namenodeUri\":\"hdfs://127.0.0.1:%d\",\"httpAddress\":\"127.0.0.1:%d\",\"datanodes\":%d,\"replication\":%d,"
            + "\"formatted\":%b,\"startMillis\":%d,\"pid\":%d}%n",
        rpcPort, httpPort, cluster.getDataNodes().size(), replication, format, readyMillis, ProcessHandle.current().pid());
    Path partial = base.resolve("ready.json.partial");
    Files.writeString(partial, json, StandardCharsets.UTF_8);
    Files.move(partial, ready, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    System.out.println("MiniHdfs: ready in " + readyMillis + " ms " + (format ? "(formatted) " : "") + json.trim());

    stopRequested.await();
    System.out.println("MiniHdfs: stopping");
    Files.deleteIfExists(ready);
    saveNamespace(cluster);
    // Not cluster.shutdown(): that also schedules the base directory for deletion when the JVM exits.
    cluster.shutdownDataNodes();
    cluster.shutdownNameNodes();
    System.out.println("MiniHdfs: stopped");
    System.exit(0);
  }

  /**
   * Log defaults for slf4j-simple, the binding in the pinned closure; a -D on the command line wins. Each datanode
   * logs one line per block directory on start-up (over a thousand), which buries everything else.
   */
  private static void quietDefaults() {
    Map<String, String> defaults = Map.of(
        "org.slf4j.simpleLogger.showDateTime", "true",
        "org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
        "org.slf4j.simpleLogger.log.org.apache.hadoop.hdfs.server.datanode.fsdataset.impl.FsDatasetImpl", "warn");
    defaults.forEach((key, value) -> {
      if (System.getProperty(key) == null) {
        System.setProperty(key, value);
      }
    });
  }

  private static MiniDFSCluster start(
      Path base, Path nameDir, boolean format, int rpcPort, int httpPort, int datanodes, int replication)
      throws IOException {
    Configuration conf = new HdfsConfiguration();
    // MiniDFSCluster deletes this folder on shutdown and on a failed start, so it must hold nothing of value.
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("minidfs").toString());
    conf.set("hadoop.tmp.dir", base.resolve("tmp").toString());
    conf.set("dfs.namenode.name.dir", nameDir.toUri().toString());
    conf.setInt("dfs.replication", replication);
    conf.setBoolean("dfs.permissions.enabled", true);
    conf.setBoolean("dfs.webhdfs.enabled", true);

    Configuration[] perDatanode = new Configuration[datanodes];
    for (int i = 0; i < datanodes; i++) {
      perDatanode[i] = new Configuration(false);
      perDatanode[i].set("dfs.datanode.data.dir", base.resolve("datanode-" + (i + 1)).toUri().toString());
    }

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf)
        .nameNodePort(rpcPort)
        .nameNodeHttpPort(httpPort)
        .numDataNodes(datanodes)
        .manageNameDfsDirs(false)
        .manageDataDfsDirs(false)
        .dataNodeConfOverlays(perDatanode)
        .format(format)
        // The edit log is the namespace: a test may skip fsync, a data plane that must survive a restart may not.
        .skipFsyncForTesting(false)
        .waitSafeMode(true)
        .build();
    cluster.waitActive();
    // waitActive ends when the datanodes have registered, not when their first block reports are in; with fewer
    // than a thousand blocks the namenode even leaves safe mode one block short. Ready means every block is readable.
    long reported = -1;
    for (long missing; (missing = cluster.getNamesystem().getMissingBlocksCount()) > 0; reported = missing) {
      if (missing != reported) {
        System.out.println("MiniHdfs: waiting for block reports, " + missing + " blocks without a live replica");
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for block reports", e);
      }
    }
    return cluster;
  }

  /**
   * A lone namenode never checkpoints (that is the standby's or secondary's job), so every start would replay every
   * edit since the format, and a streaming job makes thousands a day. Saving the image on a clean stop keeps starts
   * short; if it fails, the edit log still holds everything and the next start replays it.
   */
  private static void saveNamespace(MiniDFSCluster cluster) {
    try {
      var namenode = cluster.getNameNodeRpc();
      namenode.setSafeMode(SafeModeAction.SAFEMODE_ENTER, false);
      namenode.saveNamespace(0, 0);
      System.out.println("MiniHdfs: namespace saved");
    } catch (IOException e) {
      System.err.println("MiniHdfs: namespace not saved, the next start replays the edit log: " + e);
    }
  }

  /** The five options, each required once, as validated strings; a UsageError names the first problem. */
  private static Map<String, String> parse(String[] args) throws UsageError {
    Map<String, String> values = new HashMap<>();
    List<String> known = List.of("dir", "rpc-port", "http-port", "datanodes", "replication");
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--") || !known.contains(arg.substring(2))) {
        throw new UsageError("unknown argument '" + arg + "': expected one of --" + String.join(", --", known));
      }
      if (i + 1 >= args.length) {
        throw new UsageError("option '" + arg + "' needs a value, got nothing");
      }
      values.put(arg.substring(2), args[++i]);
    }
    List<String> missing = new ArrayList<>();
    for (String name : known) {
      if (!values.containsKey(name)) {
        missing.add("--" + name);
      }
    }
    if (!missing.isEmpty()) {
      throw new UsageError("missing option " + String.join(", ", missing));
    }
    int rpc = integer(values, "rpc-port", 1, 65535);
    int http = integer(values, "http-port", 1, 65535);
    if (rpc == http) {
      throw new UsageError("option '--http-port' must differ from '--rpc-port', got " + http + " for both");
    }
    int datanodes = integer(values, "datanodes", 1, 16);
    // MiniDFSCluster would silently lower the replication to the number of datanodes; a local run must not pretend.
    integer(values, "replication", 1, datanodes);
    return values;
  }

  private static int integer(Map<String, String> values, String name, int min, int max) throws UsageError {
    String raw = values.get(name);
    try {
      int value = Integer.parseInt(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below with the rule
    }
    throw new UsageError("option '--" + name + "' must be an integer from " + min + " to " + max + ", got '" + raw + "'");
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
