import { SPARK_VERSION } from '../pipelines/runtime/spark';

/**
 * Every version the Kubernetes side pins, in one place: operator charts (installed by the Applications in
 * k8s/rendered/<env>/apps) and the product images the operators run. A bump is one reviewed line.
 */

/** A Helm chart at a pinned version. */
export interface PinnedChart {
  readonly repoURL: string;
  readonly chart: string;
  readonly version: string;
}

/** Operator charts, as of 2026-08. */
export const OPERATOR_CHARTS = {
  strimzi: { repoURL: 'https://strimzi.io/charts/', chart: 'strimzi-kafka-operator', version: '1.2.0' },
  sparkOperator: { repoURL: 'https://kubeflow.github.io/spark-operator', chart: 'spark-operator', version: '2.5.2' },
  // 88.0.0–88.3.x ship prometheus-operator v0.93.0, the version whose CRDs the manifests are checked against.
  kubePrometheusStack: { repoURL: 'https://prometheus-community.github.io/helm-charts', chart: 'kube-prometheus-stack', version: '88.3.0' },
  externalSecrets: { repoURL: 'https://charts.external-secrets.io', chart: 'external-secrets', version: '2.9.0' },
  // Stackable publishes its charts to an OCI registry only (Argo CD takes it without the oci:// scheme).
  stackableCommons: { repoURL: 'oci.stackable.tech/sdp-charts', chart: 'commons-operator', version: '26.7.0' },
  stackableSecret: { repoURL: 'oci.stackable.tech/sdp-charts', chart: 'secret-operator', version: '26.7.0' },
  stackableListener: { repoURL: 'oci.stackable.tech/sdp-charts', chart: 'listener-operator', version: '26.7.0' },
  stackableZookeeper: { repoURL: 'oci.stackable.tech/sdp-charts', chart: 'zookeeper-operator', version: '26.7.0' },
  stackableHdfs: { repoURL: 'oci.stackable.tech/sdp-charts', chart: 'hdfs-operator', version: '26.7.0' },
  // Karpenter publishes both charts to Amazon ECR Public, an OCI registry (oci://public.ecr.aws/karpenter/<chart>).
  // The CRDs come in a chart of their own, so that an upgrade updates them (Helm never updates a chart's crds/).
  karpenterCrd: { repoURL: 'public.ecr.aws/karpenter', chart: 'karpenter-crd', version: '1.14.1' },
  karpenter: { repoURL: 'public.ecr.aws/karpenter', chart: 'karpenter', version: '1.14.1' },
} as const satisfies Record<string, PinnedChart>;

/**
 * Karpenter's controller image, named in the values: the chart sources at tag v1.14.1 still name 1.13.0 (the release
 * stamps the version when it publishes; ../shared/charts/SOURCES.md D7), and a digest makes the image immutable.
 * The digest is the one upstream recorded for v1.14.1 (aws/karpenter-provider-aws 1d927085, "docs: update for patch
 * release v1.14.1").
 */
export const KARPENTER_IMAGE = {
  tag: '1.14.1',
  digest: 'sha256:723130949e4cab989461ff07d1be4cd781d63515432494641b33c235f300ae23',
} as const;

/**
 * The Amazon Linux 2023 EKS-optimized AMI release of the nodes Karpenter launches, as an EC2NodeClass alias. Pinned,
 * not `@latest`: the rendered output must not change when AWS publishes an AMI, and a new AMI rolls every node
 * (Karpenter replaces drifted nodes), so it arrives as a reviewed one-line change. v20260520 is the release that
 * Karpenter's own end-to-end suite resolves for the cluster's Kubernetes version (aws/karpenter-provider-aws
 * test/suites/ami/suite_test.go, since a58e3d0f of 2026-06-05); Karpenter resolves the alias per Kubernetes version
 * and architecture through the public SSM parameters of the EKS AMIs.
 */
export const NODE_AMI_ALIAS = 'al2023@v20260520';

/** The registry of Stackable's operator images (the charts append the operator's name and the chart's version). */
export const STACKABLE_IMAGE_REGISTRY = 'oci.stackable.tech/sdp';

/**
 * Product versions the Stackable 26.7 operators run: the ones they mark LTS (docs/modules/<product>/partials/
 * supported-versions.adoc at tag 26.7.0: hdfs-operator lists 3.5.0 (LTS), 3.4.3 and 3.4.2 (deprecated);
 * zookeeper-operator 3.9.5 (LTS) and 3.9.4 (deprecated)).
 */
export const STACKABLE_PRODUCTS = { hdfs: '3.5.0', zookeeper: '3.9.5' } as const;

/**
 * The Kafka the brokers run and the KRaft metadata version of the cluster, both pinned in the Kafka resource: left to
 * the operator's defaults, a Strimzi upgrade would roll the brokers to a new Kafka, and move the metadata version
 * (which may not go back), without review. 4.3.1 is Strimzi 1.2.0's default Kafka, and 4.3-IV0 its metadata version
 * (`kafka-versions.yaml` of strimzi/strimzi-kafka-operator at tag 1.2.0); the local engines run the same release.
 * To upgrade, as Strimzi documents it: first `version`, with `metadataVersion` left as it is until every broker
 * runs the new Kafka, then `metadataVersion`.
 */
export const KAFKA = { version: '4.3.1', metadataVersion: '4.3-IV0' } as const;

/** The Spark release of the pipelines and the History Server, which run the pipeline image (pipelines/runtime/image.ts). */
export const SPARK = { version: SPARK_VERSION } as const;
