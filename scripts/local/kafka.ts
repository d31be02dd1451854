/**
 * The local Kafka: one KRaft node, broker and controller in one JVM, on 127.0.0.1, with what the platform's cluster
 * has (k8s/charts/kafka-chart.ts): the only client listener is TLS with SCRAM-SHA-512, the certificate comes from a
 * CA of its own, the simple authorizer denies what no ACL allows, and topics are never created on use.
 *
 * Everything lives in one data directory, kept between runs (`down` then `up` keeps the data):
 *
 *   <dataDir>/secrets.json      admin and key store passwords (mode 0600), made once
 *   <dataDir>/tls/              ca.crt (PEM, for clients), ca.p12 (the CA's key), broker.p12 (the broker's key and chain)
 *   <dataDir>/config/           server.properties, log4j2.properties, admin.properties (written on every start)
 *   <dataDir>/data/             the log directory (metadata and topics)
 *   <dataDir>/kafka.log         the broker's stdout and stderr
 *   <dataDir>/kafka.pid         the broker's process id while it runs
 *
 * Jars and ports are parameters: the pinned installer decides where Kafka's jars are, the caller which ports are free.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runCommand, tail } from '../run-command';

/** Where the local broker's files are, its ports and how its JVM runs. */
export interface LocalKafka {
  /** Kafka's jars (org.apache.kafka:kafka_2.13 and its runtime closure): a directory that holds them, or their paths. */
  readonly classpath: string | readonly string[];
  /** The broker's own directory (see the file comment); created when missing. */
  readonly dataDir: string;
  /** Client port on 127.0.0.1: SASL_SSL with SCRAM-SHA-512. */
  readonly port: number;
  /** KRaft controller port on 127.0.0.1: TLS with client certificates. */
  readonly controllerPort: number;
  /** JVM heap of the broker. @default 512 */
  readonly heapMiB?: number;
  /** The java launcher (Java 17 or later). @default 'java' */
  readonly java?: string;
  /** The keytool of that Java. @default 'keytool' */
  readonly keytool?: string;
}

/** What a client needs to reach the local broker as one user. */
export interface ClientConnection {
  /** host:port of the SASL_SSL listener. */
  readonly bootstrap: string;
  readonly securityProtocol: 'SASL_SSL';
  readonly saslMechanism: 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
  /** PEM file of the CA that signed the broker's certificate: clients verify the broker against it. */
  readonly caPath: string;
}

/** The broker's super user, as on the platform's admin tooling; other users get only their ACLs. */
export const ADMIN_USER = 'admin';

/** Subject of the broker's certificate, and so the principal it has on the controller listener (mutual TLS). */
const BROKER_SUBJECT = 'CN=driftless-local-kafka';
const NODE_ID = 1;
const STORE_PASSWORD_ENV = 'DRIFTLESS_KAFKA_STORE_PASSWORD';
/** kafka.log is renamed to kafka.log.1 at a start once it is this large. */
const LOG_ROTATE_BYTES = 20 * 1024 * 1024;
const HOST = '127.0.0.1';

/** Paths inside a data directory. */
function files(kafka: LocalKafka) {
  const root = resolve(kafka.dataDir);
  return {
    root,
    secrets: join(root, 'secrets.json'),
    tls: join(root, 'tls'),
    ca: join(root, 'tls', 'ca.crt'),
    caStore: join(root, 'tls', 'ca.p12'),
    keystore: join(root, 'tls', 'broker.p12'),
    config: join(root, 'config'),
    serverProperties: join(root, 'config', 'server.properties'),
    log4j: join(root, 'config', 'log4j2.properties'),
    adminProperties: join(root, 'config', 'admin.properties'),
    data: join(root, 'data'),
    meta: join(root, 'data', 'meta.properties'),
    log: join(root, 'kafka.log'),
    pid: join(root, 'kafka.pid'),
  };
}

interface Secrets {
  readonly adminPassword: string;
  readonly storePassword: string;
}

/** Letters and digits only: the passwords go into JAAS strings and StorageTool's `--add-scram`, which both parse quotes. */
function password(): string {
  return randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 24);
}

/** The data directory's passwords, made on first use and then read: the stores and the formatted admin credential depend on them. */
function secrets(kafka: LocalKafka): Secrets {
  const f = files(kafka);
  if (existsSync(f.secrets)) {
    const parsed = JSON.parse(readFileSync(f.secrets, 'utf8')) as Partial<Secrets>;
    if (typeof parsed.adminPassword !== 'string' || typeof parsed.storePassword !== 'string') {
      throw new Error(`${f.secrets}: 'adminPassword' and 'storePassword' must be strings: delete ${f.root} to start the local Kafka afresh`);
    }
    return { adminPassword: parsed.adminPassword, storePassword: parsed.storePassword };
  }
  mkdirSync(f.root, { recursive: true });
  const made: Secrets = { adminPassword: password(), storePassword: password() };
  writeSecretFile(f.secrets, `${JSON.stringify(made, null, 2)}\n`);
  return made;
}

/** Writes a file readable by its owner only, atomically. */
function writeSecretFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** The class path string for `java -cp`: a directory becomes `dir/*` (the JVM's own wildcard). */
export function javaClasspath(classpath: LocalKafka['classpath']): string {
  if (typeof classpath !== 'string') return classpath.map((p) => resolve(p)).join(':');
  const dir = resolve(classpath);
  if (!existsSync(dir) || !readdirSync(dir).some((name) => name.startsWith('kafka_2.13-') && name.endsWith('.jar'))) {
    throw new Error(`Kafka classpath '${dir}' holds no kafka_2.13-*.jar: pass the directory the installer put Kafka's jars in`);
  }
  return `${dir}/*`;
}

async function run(command: string, args: readonly string[], what: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await runCommand(command, args, { cwd: process.cwd(), env: { ...process.env, ...env } });
  if (result.startError !== undefined) throw new Error(`${what}: '${command}' could not start (${result.startError.code ?? result.startError.message})`);
  if (result.code !== 0) {
    const output = tail(`${result.stderr}\n${result.stdout}`.trim(), 10).replace(/\s*\n\s*/g, ' | ');
    throw new Error(`${what} failed with exit code ${result.code}: ${output}`);
  }
  return result.stdout;
}

/**
 * Makes the CA (ca.p12 with its key, ca.crt in PEM for clients) and the broker's PKCS12 key store with a key pair
 * and certificate that the CA signed for dns:localhost and ip:127.0.0.1, with keytool only. Files that exist are
 * kept, so clients that trust ca.crt keep trusting the broker across runs.
 */
export async function createCertificates(kafka: LocalKafka): Promise<{ readonly caPath: string; readonly keystorePath: string }> {
  const f = files(kafka);
  const keytoolCommand = kafka.keytool ?? 'keytool';
  const { storePassword } = secrets(kafka);
  mkdirSync(f.tls, { recursive: true, mode: 0o700 });
  // keytool's JVM: C1 only and the serial collector make each call about a third as long; there are seven calls.
  // The password goes by environment, not argument: arguments are visible to every local user in `ps`.
  const store = (path: string) => [...SHORT_LIVED_JVM.map((o) => `-J${o}`), '-keystore', path, '-storetype', 'PKCS12', '-storepass:env', STORE_PASSWORD_ENV];
  const keytool = (args: readonly string[], what: string) => run(keytoolCommand, args, `keytool: ${what}`, { [STORE_PASSWORD_ENV]: storePassword });
  // EC P-256: a key pair in milliseconds instead of RSA's second, and every TLS stack here speaks it.
  const keyPair = ['-keyalg', 'EC', '-groupname', 'secp256r1', '-sigalg', 'SHA256withECDSA'];
  if (!existsSync(f.caStore) || !existsSync(f.ca)) {
    rmSync(f.keystore, { force: true });
    rmSync(f.caStore, { force: true });
    await keytool(['-genkeypair', '-alias', 'ca', ...keyPair, '-dname', 'CN=driftless-local-ca', '-validity', '3650',
      '-ext', 'bc:c=ca:true,pathlen:0', '-ext', 'ku:c=keyCertSign,cRLSign', ...store(f.caStore)], 'creating the local CA');
    const pem = await keytool(['-exportcert', '-rfc', '-alias', 'ca', ...store(f.caStore)], 'exporting the local CA');
    writeFileSync(f.ca, pem);
  }
  if (!existsSync(f.keystore)) {
    const partial = `${f.keystore}.partial`;
    const request = join(f.tls, 'broker.csr');
    const signed = join(f.tls, 'broker.crt');
    rmSync(partial, { force: true });
    await keytool(['-genkeypair', '-alias', 'broker', ...keyPair, '-dname', BROKER_SUBJECT, '-validity', '3650', ...store(partial)], 'creating the broker key');
    await keytool(['-certreq', '-alias', 'broker', '-file', request, ...store(partial)], 'the broker certificate request');
    // serverAuth for clients, clientAuth for the broker's own connection to the controller listener.
    await keytool(['-gencert', '-alias', 'ca', '-infile', request, '-outfile', signed, '-rfc', '-validity', '3650',
      '-ext', `san=dns:localhost,ip:${HOST}`, '-ext', 'ku:c=digitalSignature', '-ext', 'eku=serverAuth,clientAuth', ...store(f.caStore)],
      'signing the broker certificate');
    // The reply is imported as a chain only once the key store trusts its issuer.
    await keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', f.ca, ...store(partial)], 'adding the CA to the broker key store');
    await keytool(['-importcert', '-noprompt', '-alias', 'broker', '-file', signed, ...store(partial)], 'importing the signed broker certificate');
    chmodSync(partial, 0o600);
    renameSync(partial, f.keystore);
    rmSync(request, { force: true });
    rmSync(signed, { force: true });
  }
  return { caPath: f.ca, keystorePath: f.keystore };
}

/**
 * Writes server.properties (and the log4j2 configuration) for the node. Listeners:
 * - CLIENT, SASL_SSL with SCRAM-SHA-512 on `port`: the platform's only client listener.
 * - CONTROLLER, TLS with client certificates on `controllerPort`: the KRaft quorum. SCRAM cannot guard it (its
 *   credentials live in the metadata that the quorum serves), and a plaintext one would let any local process in
 *   as a super user; Strimzi's controller listener is mutual TLS too.
 * - Inter-broker traffic uses CLIENT, as `admin`: one node replicates nothing, but the broker still calls itself
 *   (transaction markers), and this keeps every way in authenticated without a third port.
 */
export function writeServerProperties(kafka: LocalKafka): string {
  const f = files(kafka);
  const { adminPassword, storePassword } = secrets(kafka);
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${ADMIN_USER}" password="${adminPassword}";`;
  const properties: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': NODE_ID,
    'controller.quorum.bootstrap.servers': `${HOST}:${kafka.controllerPort}`,
    listeners: `CLIENT://${HOST}:${kafka.port},CONTROLLER://${HOST}:${kafka.controllerPort}`,
    'advertised.listeners': `CLIENT://${HOST}:${kafka.port},CONTROLLER://${HOST}:${kafka.controllerPort}`,
    'listener.security.protocol.map': 'CLIENT:SASL_SSL,CONTROLLER:SSL',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'CLIENT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.client.scram-sha-512.sasl.jaas.config': jaas,
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': f.keystore,
    'ssl.keystore.password': storePassword,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': f.ca,
    'listener.name.controller.ssl.client.auth': 'required',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': false,
    'super.users': `User:${ADMIN_USER};User:${BROKER_SUBJECT}`,
    'log.dirs': f.data,
    // One node: every replication factor is 1 (the platform's come from the environment).
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'unclean.leader.election.enable': false,
    // Topics exist only when a plan creates them, as on the platform.
    'auto.create.topics.enable': false,
    // A lone consumer starts at once instead of waiting 3 s for others to join.
    'group.initial.rebalance.delay.ms': 0,
  };
  const lines = ['# Written by scripts/local/kafka.ts on every start; edits are lost.', ...Object.entries(properties).map(([k, v]) => `${k}=${v}`)];
  writeSecretFile(f.serverProperties, `${lines.join('\n')}\n`);
  writeFileSync(f.log4j, LOG4J2);
  writeClientProperties(f.adminProperties, clientConnection(kafka, ADMIN_USER, adminPassword));
  return f.serverProperties;
}

/** Everything to stdout (kafka.log): one file is what a reader of a failed local run opens. */
const LOG4J2 = `# Written by scripts/local/kafka.ts.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = INFO
`;

/**
 * Formats the log directory with a new cluster id, this node as the only voter and the admin's SCRAM-SHA-512
 * credential, unless it is formatted already (then the data is kept). Writes server.properties first.
 * Returns whether it formatted.
 */
export async function formatStorage(kafka: LocalKafka): Promise<boolean> {
  const f = files(kafka);
  writeServerProperties(kafka);
  if (existsSync(f.meta)) return false;
  const { adminPassword } = secrets(kafka);
  await run(
    kafka.java ?? 'java',
    [
      ...jvmOptions(kafka, 'tool'),
      'kafka.tools.StorageTool',
      'format',
      '--config', f.serverProperties,
      '--cluster-id', clusterId(),
      '--standalone',
      '--add-scram', `SCRAM-SHA-512=[name=${ADMIN_USER},password=${adminPassword}]`,
    ],
    `formatting the local Kafka storage in ${f.data}`,
  );
  return true;
}

/** A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, not starting with '-' (as Uuid.randomUuid). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** JVM flags for tools that run for seconds: no C2 compiler and no G1 threads to start, which halves their start-up. */
const SHORT_LIVED_JVM = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'];

/** Class path, heap and JVM flags: for the broker those of Kafka's own start scripts (kafka-run-class.sh), for tools the short-lived ones. */
function jvmOptions(kafka: LocalKafka, use: 'broker' | 'tool'): string[] {
  const f = files(kafka);
  const heapMiB = use === 'broker' ? (kafka.heapMiB ?? 512) : 256;
  return [
    `-Xms${use === 'broker' ? heapMiB : 64}m`,
    `-Xmx${heapMiB}m`,
    ...(use === 'broker'
      ? ['-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent']
      : SHORT_LIVED_JVM),
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${f.log4j}`,
    `-Dkafka.logs.dir=${f.root}`,
    '-cp',
    javaClasspath(kafka.classpath),
  ];
}

/**
 * Starts the formatted node detached (its own process group, output appended to kafka.log) and returns its pid,
 * also written to kafka.pid. Fails if a broker of this data directory is running already.
 */
export function startBroker(kafka: LocalKafka): number {
  const f = files(kafka);
  if (!existsSync(f.meta)) throw new Error(`${f.data} is not formatted: call formatStorage before startBroker`);
  const running = brokerPid(kafka);
  if (running !== undefined) throw new Error(`the local Kafka of ${f.root} runs already as pid ${running}: stop it first`);
  writeServerProperties(kafka);
  if (existsSync(f.log) && statSync(f.log).size > LOG_ROTATE_BYTES) renameSync(f.log, `${f.log}.1`);
  const out = openSync(f.log, 'a');
  try {
    const child = spawn(kafka.java ?? 'java', [...jvmOptions(kafka, 'broker'), 'kafka.Kafka', f.serverProperties], {
      cwd: f.root,
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new Error(`'${kafka.java ?? 'java'}' could not start the local Kafka`);
    child.unref();
    writeFileSync(f.pid, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/**
 * The pid of this data directory's broker if it runs: kafka.pid names a live process whose command line is
 * kafka.Kafka with this server.properties (a reused pid of another process is never taken for it).
 */
export function brokerPid(kafka: LocalKafka): number | undefined {
  const f = files(kafka);
  if (!existsSync(f.pid)) return undefined;
  const pid = Number(readFileSync(f.pid, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isBroker(pid, f.serverProperties) ? pid : undefined;
}

function isBroker(pid: number, serverProperties: string): boolean {
  try {
    // A zombie (exited, not yet reaped) keeps its pid but is no broker.
    if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('kafka.Kafka') && args.includes(serverProperties);
  } catch {
    return false;
  }
}

/**
 * Waits until the client listener accepts the admin over SASL_SSL (TLS verified against ca.crt, SCRAM-SHA-512)
 * and answers a metadata request. Fails early, with the end of kafka.log, if the broker exits.
 */
export async function waitUntilReady(kafka: LocalKafka, timeoutMs = 90_000): Promise<void> {
  const f = files(kafka);
  const { Admin, SASLMechanisms } = await import('@platformatic/kafka');
  const admin = adminConnection(kafka);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (brokerPid(kafka) === undefined) {
      throw new Error(`the local Kafka exited before it was ready; the end of ${f.log}:\n${logTail(f.log)}`);
    }
    const client = new Admin({
      clientId: 'driftless-local-ready',
      bootstrapBrokers: [admin.bootstrap],
      tls: { ca: readFileSync(admin.caPath) },
      sasl: { mechanism: SASLMechanisms.SCRAM_SHA_512, username: admin.username, password: admin.password },
      connectTimeout: 2_000,
      timeout: 5_000,
      retries: 0,
    });
    try {
      await client.listTopics();
      return;
    } catch (error) {
      last = describeError(error);
    } finally {
      await client.close().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new Error(`the local Kafka at ${admin.bootstrap} was not ready after ${timeoutMs / 1000} s (last: ${last}); see ${f.log}`);
    }
    await sleep(500);
  }
}

/** SIGTERM to the broker's process group (a controlled shutdown), SIGKILL if it is still there after `timeoutMs`. Returns whether one ran. */
export async function stopBroker(kafka: LocalKafka, timeoutMs = 30_000): Promise<boolean> {
  const f = files(kafka);
  const pid = brokerPid(kafka);
  if (pid === undefined) {
    rmSync(f.pid, { force: true });
    return false;
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isBroker(pid, f.serverProperties) && Date.now() < deadline) await sleep(200);
  if (isBroker(pid, f.serverProperties)) {
    signalGroup(pid, 'SIGKILL');
    while (isBroker(pid, f.serverProperties)) await sleep(100);
  }
  rmSync(f.pid, { force: true });
  return true;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Connection details of `username` (whose password the caller set in a plan) for the broker of `kafka`. */
export function clientConnection(kafka: LocalKafka, username: string, password: string): ClientConnection {
  return {
    bootstrap: `${HOST}:${kafka.port}`,
    securityProtocol: 'SASL_SSL',
    saslMechanism: 'SCRAM-SHA-512',
    username,
    password,
    caPath: files(kafka).ca,
  };
}

/** The super user's connection: for applying plans and reading lag, never for pipelines. */
export function adminConnection(kafka: LocalKafka): ClientConnection {
  return clientConnection(kafka, ADMIN_USER, secrets(kafka).adminPassword);
}

/** Writes a Java client properties file (Kafka's tools, KafkaAdmin.java, Spark's `kafka.` options) for a connection; mode 0600. */
export function writeClientProperties(path: string, connection: ClientConnection): void {
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${escapeJaas(connection.username)}" password="${escapeJaas(connection.password)}";`;
  const lines = [
    `bootstrap.servers=${connection.bootstrap}`,
    `security.protocol=${connection.securityProtocol}`,
    `sasl.mechanism=${connection.saslMechanism}`,
    `sasl.jaas.config=${escapeProperty(jaas)}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${escapeProperty(connection.caPath)}`,
  ];
  writeSecretFile(path, `${lines.join('\n')}\n`);
}

const escapeJaas = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const escapeProperty = (value: string) => value.replace(/\\/g, '\\\\');

/** scripts/local/KafkaAdmin.java, beside this file. */
export const KAFKA_ADMIN_SOURCE = join(__dirname, 'KafkaAdmin.java');

/**
 * Runs KafkaAdmin (`apply`, `lag` or `describe`) as the admin and returns its JSON. Its one-line errors become
 * the thrown Error's message.
 */
export async function kafkaAdmin(kafka: LocalKafka, command: 'apply' | 'lag' | 'describe', args: readonly string[] = []): Promise<unknown> {
  const f = files(kafka);
  if (!existsSync(f.adminProperties)) writeServerProperties(kafka);
  const java = kafka.java ?? 'java';
  const classes = await compiledKafkaAdmin(kafka);
  const program = classes === undefined ? ['-cp', javaClasspath(kafka.classpath), KAFKA_ADMIN_SOURCE] : ['-cp', `${classes}:${javaClasspath(kafka.classpath)}`, 'KafkaAdmin'];
  const result = await runCommand(java, ['-Xmx256m', ...SHORT_LIVED_JVM, ...program, command, f.adminProperties, ...args], { cwd: process.cwd() });
  if (result.startError !== undefined) throw new Error(`KafkaAdmin ${command}: '${java}' could not start (${result.startError.code ?? result.startError.message})`);
  if (result.code !== 0) {
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('KafkaAdmin'));
    throw new Error(lines.length > 0 ? lines.join('\n') : `KafkaAdmin ${command} failed with exit code ${result.code}: ${tail(result.stderr, 10)}`);
  }
  return JSON.parse(result.stdout) as unknown;
}

/**
 * KafkaAdmin.java compiled once per source and class path into <dataDir>/classes/<hash>: source-file mode
 * compiles on every launch, which costs seconds per call. Undefined (so source-file mode) when there is no javac
 * beside the java launcher.
 */
async function compiledKafkaAdmin(kafka: LocalKafka): Promise<string | undefined> {
  const classpath = javaClasspath(kafka.classpath);
  const hash = createHash('sha256').update(readFileSync(KAFKA_ADMIN_SOURCE)).update(classpath).digest('hex').slice(0, 16);
  const classes = join(files(kafka).root, 'classes', hash);
  if (existsSync(join(classes, 'KafkaAdmin.class'))) return classes;
  const java = kafka.java ?? 'java';
  const javac = java.includes('/') ? join(dirname(java), 'javac') : 'javac';
  const partial = `${classes}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const result = await runCommand(javac, ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC', '-nowarn', '-cp', classpath, '-d', partial, KAFKA_ADMIN_SOURCE], { cwd: process.cwd() });
  if (result.startError !== undefined) return undefined;
  if (result.code !== 0) throw new Error(`javac: compiling ${KAFKA_ADMIN_SOURCE} failed: ${tail(result.stderr, 10)}`);
  try {
    renameSync(partial, classes);
  } catch (error) {
    // Another run compiled the same source at the same time: use its classes.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(classes, 'KafkaAdmin.class'))) throw error;
  }
  // Classes of earlier versions of the source are of no more use.
  for (const name of readdirSync(dirname(classes))) {
    if (/^[0-9a-f]{16}$/.test(name) && name !== hash) rmSync(join(dirname(classes), name), { recursive: true, force: true });
  }
  return classes;
}

/** Timings of `startLocalKafka`, in milliseconds. */
export interface StartTimings {
  readonly certificatesMs: number;
  /** 0 when the storage was formatted already. */
  readonly formatMs: number;
  /** From spawning the JVM to the first authenticated admin answer. */
  readonly startToReadyMs: number;
}

/**
 * Certificates, configuration, storage (once), start, and the wait for an authenticated answer: `npm run local up`
 * for Kafka. A broker of this data directory that runs already is only waited for.
 */
export async function startLocalKafka(kafka: LocalKafka, readyTimeoutMs?: number): Promise<{ readonly pid: number; readonly timings: StartTimings }> {
  let at = Date.now();
  const running = brokerPid(kafka);
  if (running !== undefined) {
    await waitUntilReady(kafka, readyTimeoutMs);
    return { pid: running, timings: { certificatesMs: 0, formatMs: 0, startToReadyMs: Date.now() - at } };
  }
  await createCertificates(kafka);
  const certificatesMs = Date.now() - at;
  at = Date.now();
  const formatted = await formatStorage(kafka);
  const formatMs = formatted ? Date.now() - at : 0;
  at = Date.now();
  const pid = startBroker(kafka);
  try {
    await waitUntilReady(kafka, readyTimeoutMs);
  } catch (error) {
    await stopBroker(kafka);
    throw error;
  }
  return { pid, timings: { certificatesMs, formatMs, startToReadyMs: Date.now() - at } };
}

function logTail(path: string): string {
  try {
    return tail(readFileSync(path, 'utf8'), 15);
  } catch {
    return '(no log)';
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error instanceof AggregateError ? error.errors : error.cause === undefined ? [] : [error.cause];
  return [error.message, ...inner.map(describeError)].join(': ');
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
