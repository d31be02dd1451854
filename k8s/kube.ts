/**
 * The typed Kubernetes L1 classes (KubeNamespace, KubeNetworkPolicy, ...), imported in this one place
 * so that moving to another cdk8s-plus line is a one-line change.
 */
export * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
