/*
 * The local Kafka's admin tool: what Strimzi's topic and user operators do on the platform, for the broker that
 * scripts/local/kafka.ts runs. Launched in source-file mode, so there is no build step:
 *
 *   java -cp '<kafka jars>/*' scripts/local/KafkaAdmin.java apply    <admin.properties> <plan.json>
 *   java -cp '<kafka jars>/*' scripts/local/KafkaAdmin.java lag      <admin.properties> <group> [topic ...]
 *   java -cp '<kafka jars>/*' scripts/local/KafkaAdmin.java describe <admin.properties>
 *
 * The plan is KafkaTopic and KafkaUser specs as JSON: {"topics":[{"name","partitions","replicas","config"}],
 * "users":[{"name","password","acls":[<KafkaUser spec.authorization.acls entry>]}]}, so the ACLs of a rendered
 * KafkaUser pass through unchanged. apply is idempotent: it creates missing topics, raises partition counts, sets
 * the configs the plan names, upserts SCRAM-SHA-512 credentials, and leaves each user of the plan with exactly its
 * listed ACLs (as Strimzi's user operator does); topics and users outside the plan are left alone. lag names a
 * partition's log end offset minus the group's committed offset (the log end offset where there is none), for the
 * topics the group committed on, is assigned, or the caller names. Every command prints one JSON document on
 * stdout; a failure prints one line per problem on stderr and exits 1 (2 for a usage error).
 */

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAdmin {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Strimzi names the cluster resource of an ACL this way whatever the spec says (the broker only knows one). */
  private static final String CLUSTER_RESOURCE_NAME = "kafka-cluster";

  /** The broker address of the properties file, for error messages. */
  private static String bootstrap;

  /** What Strimzi's user operator sets for SCRAM-SHA-512 credentials. */
  private static final int SCRAM_ITERATIONS = 4096;

  /** A failure that is the input's fault or the cluster's answer: printed as lines, never as a stack trace. */
  static final class Failure extends Exception {
    final List<String> lines;
    final int exitCode;

    Failure(int exitCode, List<String> lines) {
      super(String.join("; ", lines));
      this.exitCode = exitCode;
      this.lines = lines;
    }

    Failure(String line) {
      this(1, List.of(line));
    }
  }

  public static void main(String[] args) {
    String command = args.length > 0 ? args[0] : "";
    try {
      run(command, args);
    } catch (Failure failure) {
      for (String line : failure.lines) System.err.println("KafkaAdmin" + (command.isEmpty() ? "" : " " + command) + ": " + line);
      System.exit(failure.exitCode);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      // A timeout is nearly always a broker that is down or a wrong address: say which address.
      String hint = cause instanceof org.apache.kafka.common.errors.TimeoutException && bootstrap != null
          ? "; is the broker at " + bootstrap + " running?" : "";
      System.err.println("KafkaAdmin" + (command.isEmpty() ? "" : " " + command) + ": " + message(cause) + hint);
      System.exit(1);
    }
    // The admin client's threads are daemons, but an explicit exit never waits for a lingering connection.
    System.exit(0);
  }

  private static final String USAGE =
      "usage: KafkaAdmin apply <admin.properties> <plan.json> | lag <admin.properties> <group> [topic ...] | describe <admin.properties>";

  static void run(String command, String[] args) throws Exception {
    switch (command) {
      case "apply" -> {
        if (args.length != 3) throw new Failure(2, List.of(USAGE));
        Plan plan = Plan.read(new File(args[2]));
        try (Admin admin = connect(args[1])) {
          print(apply(admin, plan));
        }
      }
      case "lag" -> {
        if (args.length < 3) throw new Failure(2, List.of(USAGE));
        List<String> topics = List.of(args).subList(3, args.length);
        try (Admin admin = connect(args[1])) {
          print(lag(admin, args[2], topics));
        }
      }
      case "describe" -> {
        if (args.length != 2) throw new Failure(2, List.of(USAGE));
        try (Admin admin = connect(args[1])) {
          print(describe(admin));
        }
      }
      default -> throw new Failure(2, List.of(USAGE));
    }
  }

  static Admin connect(String propertiesPath) throws Failure {
    Properties properties = new Properties();
    // A broker that is down fails the command in seconds, not after the client's default of a minute.
    properties.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    properties.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
    try (InputStream in = new FileInputStream(propertiesPath)) {
      properties.load(in);
    } catch (IOException e) {
      throw new Failure(propertiesPath + ": cannot be read (" + message(e) + "): pass the client properties that kafka.ts writes");
    }
    if (!properties.containsKey(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)) {
      throw new Failure(propertiesPath + ": 'bootstrap.servers' is missing: the file must name the broker to connect to");
    }
    bootstrap = properties.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    return Admin.create(properties);
  }

  // ---------------------------------------------------------------- plan

  record TopicSpec(String name, Optional<Integer> partitions, Optional<Short> replicas, Map<String, String> config) {}

  record AclSpec(ResourcePattern pattern, List<AclOperation> operations, String host, AclPermissionType permission) {}

  record UserSpec(String name, String password, List<AclSpec> acls) {}

  record Plan(List<TopicSpec> topics, List<UserSpec> users) {
    /** Reads and validates the whole plan first, so one run names every problem and nothing is half-applied because of a typo. */
    static Plan read(File file) throws Failure {
      JsonNode root;
      try {
        root = new ObjectMapper().readTree(file);
      } catch (IOException e) {
        throw new Failure(file + ": is not readable JSON (" + message(e) + ")");
      }
      List<String> problems = new ArrayList<>();
      String where = file.getPath();
      if (root == null || !root.isObject()) throw new Failure(where + ": must hold a JSON object {\"topics\": [...], \"users\": [...]}");
      unknownFields(root, Set.of("topics", "users"), where, problems);
      List<TopicSpec> topics = new ArrayList<>();
      Set<String> topicNames = new LinkedHashSet<>();
      for (JsonNode t : array(root, "topics", where, problems)) {
        String at = where + ": topics[" + topics.size() + "]";
        unknownFields(t, Set.of("name", "partitions", "replicas", "config"), at, problems);
        String name = text(t, "name", at, problems);
        if (name != null && !topicNames.add(name)) problems.add(at + ".name '" + name + "' appears more than once: name each topic once");
        Optional<Integer> partitions = positiveInt(t, "partitions", at, problems, Integer.MAX_VALUE).map(Long::intValue);
        Optional<Short> replicas = positiveInt(t, "replicas", at, problems, Short.MAX_VALUE).map(Long::shortValue);
        Map<String, String> config = new TreeMap<>();
        JsonNode c = t.get("config");
        if (c != null && !c.isNull()) {
          if (!c.isObject()) {
            problems.add(at + ".config must be an object of topic configs, got " + c);
          } else {
            c.properties().forEach(e -> {
              if (e.getValue().isValueNode() && !e.getValue().isNull()) config.put(e.getKey(), e.getValue().asText());
              else problems.add(at + ".config['" + e.getKey() + "'] must be a string, number or boolean, got " + e.getValue());
            });
          }
        }
        topics.add(new TopicSpec(name, partitions, replicas, config));
      }
      List<UserSpec> users = new ArrayList<>();
      Set<String> userNames = new LinkedHashSet<>();
      for (JsonNode u : array(root, "users", where, problems)) {
        String at = where + ": users[" + users.size() + "]";
        unknownFields(u, Set.of("name", "password", "acls"), at, problems);
        String name = text(u, "name", at, problems);
        if (name != null && !userNames.add(name)) problems.add(at + ".name '" + name + "' appears more than once: name each user once");
        String password = text(u, "password", at, problems);
        List<AclSpec> acls = new ArrayList<>();
        int index = 0;
        for (JsonNode a : array(u, "acls", at, problems)) {
          AclSpec acl = aclOf(a, at + ".acls[" + index++ + "]", problems);
          if (acl != null) acls.add(acl);
        }
        users.add(new UserSpec(name, password, acls));
      }
      if (!problems.isEmpty()) throw new Failure(1, problems);
      return new Plan(topics, users);
    }
  }

  /** The Strimzi KafkaUser spec names of resource types, pattern types, operations and rule types, and Kafka's values. */
  static final Map<String, ResourceType> RESOURCE_TYPES = Map.of(
      "topic", ResourceType.TOPIC,
      "group", ResourceType.GROUP,
      "cluster", ResourceType.CLUSTER,
      "transactionalId", ResourceType.TRANSACTIONAL_ID);

  static final Map<String, PatternType> PATTERN_TYPES = Map.of("literal", PatternType.LITERAL, "prefix", PatternType.PREFIXED);

  static final Map<String, AclOperation> OPERATIONS = new LinkedHashMap<>();

  static {
    OPERATIONS.put("Read", AclOperation.READ);
    OPERATIONS.put("Write", AclOperation.WRITE);
    OPERATIONS.put("Create", AclOperation.CREATE);
    OPERATIONS.put("Delete", AclOperation.DELETE);
    OPERATIONS.put("Alter", AclOperation.ALTER);
    OPERATIONS.put("Describe", AclOperation.DESCRIBE);
    OPERATIONS.put("ClusterAction", AclOperation.CLUSTER_ACTION);
    OPERATIONS.put("AlterConfigs", AclOperation.ALTER_CONFIGS);
    OPERATIONS.put("DescribeConfigs", AclOperation.DESCRIBE_CONFIGS);
    OPERATIONS.put("IdempotentWrite", AclOperation.IDEMPOTENT_WRITE);
    OPERATIONS.put("All", AclOperation.ALL);
  }

  static final Map<String, AclPermissionType> RULE_TYPES = Map.of("allow", AclPermissionType.ALLOW, "deny", AclPermissionType.DENY);

  /** The Strimzi name of a Kafka value, for `describe`. */
  static <V> String nameOf(Map<String, V> names, V value) {
    return names.entrySet().stream().filter(e -> e.getValue() == value).map(Map.Entry::getKey).findFirst().orElse(String.valueOf(value));
  }

  /** One KafkaUser spec.authorization.acls entry; null (and a problem) when it cannot become an ACL. */
  static AclSpec aclOf(JsonNode a, String at, List<String> problems) {
    if (a == null || !a.isObject()) {
      problems.add(at + " must be an object {\"resource\": {...}, \"operations\": [...]}, got " + a);
      return null;
    }
    unknownFields(a, Set.of("resource", "operations", "operation", "host", "type"), at, problems);
    JsonNode r = a.get("resource");
    if (r == null || !r.isObject()) {
      problems.add(at + ".resource must be an object {\"type\", \"name\", \"patternType\"}, got " + r);
      return null;
    }
    unknownFields(r, Set.of("type", "name", "patternType"), at + ".resource", problems);
    String typeName = r.path("type").asText("");
    ResourceType type = RESOURCE_TYPES.get(typeName);
    if (type == null) problems.add(at + ".resource.type must be one of " + RESOURCE_TYPES.keySet().stream().sorted().toList() + ", got '" + typeName + "'");
    String patternName = r.path("patternType").asText("literal");
    PatternType patternType = PATTERN_TYPES.get(patternName);
    if (patternType == null) problems.add(at + ".resource.patternType must be 'literal' or 'prefix', got '" + patternName + "'");
    String name = type == ResourceType.CLUSTER ? CLUSTER_RESOURCE_NAME : r.path("name").asText("");
    if (name.isEmpty()) problems.add(at + ".resource.name is required for resource type '" + typeName + "'");
    List<String> operationNames = new ArrayList<>();
    JsonNode ops = a.get("operations");
    if (ops != null && ops.isArray()) ops.forEach(o -> operationNames.add(o.asText()));
    // Strimzi's deprecated single `operation` is still accepted by its CRD.
    if (a.hasNonNull("operation")) operationNames.add(a.get("operation").asText());
    if (operationNames.isEmpty()) problems.add(at + ".operations must list at least one of " + OPERATIONS.keySet());
    List<AclOperation> operations = new ArrayList<>();
    for (String o : operationNames) {
      AclOperation op = OPERATIONS.get(o);
      if (op == null) problems.add(at + ".operations: '" + o + "' is not one of " + OPERATIONS.keySet());
      else if (!operations.contains(op)) operations.add(op);
    }
    String ruleName = a.path("type").asText("allow");
    AclPermissionType permission = RULE_TYPES.get(ruleName);
    if (permission == null) problems.add(at + ".type must be 'allow' or 'deny', got '" + ruleName + "'");
    String host = a.path("host").asText("*");
    if (type == null || patternType == null || permission == null || name.isEmpty()) return null;
    return new AclSpec(new ResourcePattern(type, name, patternType), operations, host, permission);
  }

  // ---------------------------------------------------------------- apply

  static ObjectNode apply(Admin admin, Plan plan) throws Exception {
    ObjectNode report = JSON.createObjectNode();
    ArrayNode created = report.putArray("topicsCreated");
    ArrayNode grown = report.putArray("topicsGrown");
    ArrayNode reconfigured = report.putArray("topicsReconfigured");
    List<String> problems = new ArrayList<>();

    Set<String> existing = admin.listTopics().names().get();
    Map<String, TopicDescription> described = plan.topics.stream().anyMatch(t -> existing.contains(t.name))
        ? admin.describeTopics(plan.topics.stream().map(TopicSpec::name).filter(existing::contains).toList()).allTopicNames().get()
        : Map.of();

    List<NewTopic> newTopics = new ArrayList<>();
    Map<String, NewPartitions> growth = new LinkedHashMap<>();
    Map<ConfigResource, Collection<AlterConfigOp>> configChanges = new LinkedHashMap<>();
    for (TopicSpec t : plan.topics) {
      TopicDescription d = described.get(t.name);
      if (d == null) {
        NewTopic topic = new NewTopic(t.name, t.partitions, t.replicas);
        if (!t.config.isEmpty()) topic.configs(t.config);
        newTopics.add(topic);
        continue;
      }
      int partitions = d.partitions().size();
      if (t.partitions.isPresent() && t.partitions.get() > partitions) {
        growth.put(t.name, NewPartitions.increaseTo(t.partitions.get()));
      } else if (t.partitions.isPresent() && t.partitions.get() < partitions) {
        problems.add("topic '" + t.name + "' has " + partitions + " partitions and the plan asks for " + t.partitions.get()
            + ": Kafka cannot remove partitions; delete the topic or keep " + partitions);
      }
      int replicas = d.partitions().get(0).replicas().size();
      if (t.replicas.isPresent() && t.replicas.get() != replicas) {
        problems.add("topic '" + t.name + "' has " + replicas + " replicas and the plan asks for " + t.replicas.get()
            + ": changing the replication factor needs a reassignment, which apply does not do");
      }
      if (!t.config.isEmpty()) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, t.name);
        configChanges.put(resource, t.config.entrySet().stream()
            .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET)).toList());
      }
    }
    if (!problems.isEmpty()) throw new Failure(1, problems);

    if (!newTopics.isEmpty()) {
      Map<String, KafkaFuture<Void>> results = admin.createTopics(newTopics).values();
      collect(results, "creating topic", problems);
      newTopics.forEach(t -> created.add(t.name()));
    }
    if (!growth.isEmpty()) {
      collect(admin.createPartitions(growth).values(), "adding partitions to topic", problems);
      growth.keySet().forEach(grown::add);
    }
    if (!configChanges.isEmpty()) {
      // Only the configs the plan names are set; others keep their values, as with `kafka-configs --alter --add-config`.
      Map<ConfigResource, Config> before = admin.describeConfigs(configChanges.keySet()).all().get();
      configChanges.entrySet().removeIf(e -> e.getValue().stream().allMatch(op -> {
        ConfigEntry now = before.get(e.getKey()).get(op.configEntry().name());
        return now != null && op.configEntry().value().equals(now.value());
      }));
      if (!configChanges.isEmpty()) {
        collect(admin.incrementalAlterConfigs(configChanges).values(), "setting configs of", problems);
        configChanges.keySet().forEach(r -> reconfigured.add(r.name()));
      }
    }

    ArrayNode usersUpserted = report.putArray("usersUpserted");
    if (!plan.users.isEmpty()) {
      // Upserting always writes a new salt: harmless, and it makes the plan's password the one in force.
      Map<String, KafkaFuture<Void>> results = admin.alterUserScramCredentials(plan.users.stream()
          .map(u -> (org.apache.kafka.clients.admin.UserScramCredentialAlteration) new UserScramCredentialUpsertion(
              u.name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), u.password))
          .toList()).values();
      collect(results, "setting the SCRAM-SHA-512 credentials of user", problems);
      plan.users.forEach(u -> usersUpserted.add(u.name));
    }

    // ACLs: a user in the plan ends with exactly its listed ACLs, as the Strimzi user operator keeps them.
    int aclsCreated = 0;
    int aclsDeleted = 0;
    if (!plan.users.isEmpty()) {
      Set<AclBinding> current = new LinkedHashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get());
      Set<AclBinding> wanted = new LinkedHashSet<>();
      Set<String> principals = new TreeSet<>();
      for (UserSpec u : plan.users) {
        String principal = "User:" + u.name;
        principals.add(principal);
        for (AclSpec a : u.acls) {
          for (AclOperation op : a.operations) {
            wanted.add(new AclBinding(a.pattern, new AccessControlEntry(principal, a.host, op, a.permission)));
          }
        }
      }
      List<AclBinding> toCreate = wanted.stream().filter(b -> !current.contains(b)).toList();
      List<AclBindingFilter> toDelete = current.stream()
          .filter(b -> principals.contains(b.entry().principal()) && !wanted.contains(b))
          .map(AclBinding::toFilter)
          .toList();
      if (!toCreate.isEmpty()) {
        collect(admin.createAcls(toCreate).values(), "creating ACL", problems);
        aclsCreated = toCreate.size();
      }
      if (!toDelete.isEmpty()) {
        admin.deleteAcls(toDelete).all().get();
        aclsDeleted = toDelete.size();
      }
    }
    report.put("aclsCreated", aclsCreated);
    report.put("aclsDeleted", aclsDeleted);
    if (!problems.isEmpty()) throw new Failure(1, problems);
    return report;
  }

  /** Waits for every future and names each one that failed, with the cluster's reason. */
  static <K> void collect(Map<K, KafkaFuture<Void>> results, String doing, List<String> problems) throws InterruptedException {
    for (Map.Entry<K, KafkaFuture<Void>> e : results.entrySet()) {
      try {
        e.getValue().get();
      } catch (ExecutionException failure) {
        problems.add(doing + " '" + e.getKey() + "' failed: " + message(failure.getCause()));
      }
    }
  }

  // ---------------------------------------------------------------- lag

  /**
   * Lag per partition of the topics the group has committed offsets for, is assigned now, or the caller names:
   * log end offset minus committed offset, or the log end offset where the group has committed nothing.
   */
  static ObjectNode lag(Admin admin, String group, List<String> namedTopics) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    Set<String> topics = new TreeSet<>(namedTopics);
    committed.keySet().forEach(tp -> topics.add(tp.topic()));
    try {
      ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
      for (MemberDescription m : d.members()) m.assignment().topicPartitions().forEach(tp -> topics.add(tp.topic()));
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof GroupIdNotFoundException)) throw e;
    }
    ObjectNode report = JSON.createObjectNode();
    report.put("group", group);
    ObjectNode byTopic = report.putObject("topics");
    long total = 0;
    if (!topics.isEmpty()) {
      Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames().get();
      Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
      described.values().forEach(d -> d.partitions().forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
      var ends = admin.listOffsets(latest).all().get();
      for (String topic : topics) {
        ObjectNode partitions = byTopic.putObject(topic);
        TopicDescription d = described.get(topic);
        for (var p : d.partitions()) {
          TopicPartition tp = new TopicPartition(topic, p.partition());
          long end = ends.get(tp).offset();
          OffsetAndMetadata c = committed.get(tp);
          long lag = Math.max(0, end - (c == null ? 0 : c.offset()));
          partitions.put(String.valueOf(p.partition()), lag);
          total += lag;
        }
      }
    }
    report.put("total", total);
    return report;
  }

  // ---------------------------------------------------------------- describe

  static ObjectNode describe(Admin admin) throws Exception {
    ObjectNode report = JSON.createObjectNode();
    ObjectNode topics = report.putObject("topics");
    Set<String> names = new TreeSet<>(admin.listTopics().names().get());
    if (!names.isEmpty()) {
      Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
      List<ConfigResource> resources = names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
      Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
      for (String name : names) {
        TopicDescription d = described.get(name);
        ObjectNode t = topics.putObject(name);
        t.put("partitions", d.partitions().size());
        t.put("replicas", d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size());
        ObjectNode config = t.putObject("config");
        configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name)).entries().stream()
            .filter(e -> e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG)
            .sorted((a, b) -> a.name().compareTo(b.name()))
            .forEach(e -> config.put(e.name(), e.value()));
      }
    }
    ObjectNode users = report.putObject("users");
    Map<String, UserScramCredentialsDescription> credentials = new TreeMap<>(admin.describeUserScramCredentials().all().get());
    credentials.forEach((user, d) -> {
      ArrayNode mechanisms = users.putArray(user);
      d.credentialInfos().forEach(i -> mechanisms.addObject().put("mechanism", i.mechanism().mechanismName()).put("iterations", i.iterations()));
    });
    // ACLs grouped per principal and resource as KafkaUser spec.authorization.acls entries, so a plan can be compared.
    Map<String, Map<String, ObjectNode>> byPrincipal = new TreeMap<>();
    for (AclBinding b : admin.describeAcls(AclBindingFilter.ANY).values().get()) {
      ResourcePattern p = b.pattern();
      AccessControlEntry e = b.entry();
      String key = p.resourceType() + "|" + p.patternType() + "|" + p.name() + "|" + e.host() + "|" + e.permissionType();
      ObjectNode acl = byPrincipal.computeIfAbsent(e.principal(), k -> new TreeMap<>()).computeIfAbsent(key, k -> {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode resource = n.putObject("resource");
        resource.put("type", nameOf(RESOURCE_TYPES, p.resourceType()));
        resource.put("name", p.name());
        resource.put("patternType", nameOf(PATTERN_TYPES, p.patternType()));
        n.putArray("operations");
        n.put("host", e.host());
        n.put("type", nameOf(RULE_TYPES, e.permissionType()));
        return n;
      });
      ((ArrayNode) acl.get("operations")).add(nameOf(OPERATIONS, e.operation()));
    }
    ObjectNode acls = report.putObject("acls");
    List<String> operationOrder = List.copyOf(OPERATIONS.keySet());
    byPrincipal.forEach((principal, entries) -> {
      ArrayNode list = acls.putArray(principal);
      for (ObjectNode entry : entries.values()) {
        // In the order of Strimzi's operation list, whatever order the broker returned them in.
        List<String> operations = new ArrayList<>();
        entry.get("operations").forEach(o -> operations.add(o.asText()));
        operations.sort((x, y) -> Integer.compare(operationOrder.indexOf(x), operationOrder.indexOf(y)));
        ArrayNode sorted = entry.putArray("operations");
        operations.forEach(sorted::add);
        list.add(entry);
      }
    });
    return report;
  }

  // ---------------------------------------------------------------- helpers

  static void print(JsonNode node) throws IOException {
    System.out.println(JSON.writeValueAsString(node));
  }

  /** The innermost useful message of an exception, on one line. */
  static String message(Throwable e) {
    Throwable t = e;
    while ((t instanceof ExecutionException || t.getMessage() == null) && t.getCause() != null) t = t.getCause();
    String text = t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    return text.replaceAll("\\s*\\R\\s*", " ");
  }

  static void unknownFields(JsonNode node, Set<String> known, String at, List<String> problems) {
    if (node == null || !node.isObject()) return;
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) problems.add(at + ": unknown field '" + name + "', expected one of " + new TreeSet<>(known));
    }
  }

  static List<JsonNode> array(JsonNode node, String field, String at, List<String> problems) {
    JsonNode a = node == null ? null : node.get(field);
    if (a == null || a.isNull()) return List.of();
    if (!a.isArray()) {
      problems.add(at + "." + field + " must be an array, got " + a);
      return List.of();
    }
    List<JsonNode> items = new ArrayList<>();
    a.forEach(items::add);
    return items;
  }

  static String text(JsonNode node, String field, String at, List<String> problems) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      problems.add(at + "." + field + " must be a non-empty string, got " + v);
      return null;
    }
    return v.asText();
  }

  static Optional<Long> positiveInt(JsonNode node, String field, String at, List<String> problems, long max) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull()) return Optional.empty();
    if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > max) {
      problems.add(at + "." + field + " must be a whole number from 1 to " + max + ", got " + v);
      return Optional.empty();
    }
    return Optional.of(v.asLong());
  }
}
