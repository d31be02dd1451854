/** Rules for object metadata: names the Kubernetes API server accepts, so that a sync never fails on a name. */
import type { ManifestRule } from './rule';

// RFC 1123: a label is at most 63 lower-case alphanumerics and dashes, starting and ending alphanumeric;
// a subdomain is labels joined by dots, at most 253 characters.
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_LABEL = new RegExp(`^${LABEL}$`);
const DNS_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/** Kinds whose names must be RFC 1123 labels (they become DNS names or label values). */
const LABEL_NAMED_KINDS = ['Namespace', 'Service'];

/** Why a name is not one the API server accepts for the kind, or undefined. */
export function objectNameProblem(kind: string, name: string): string | undefined {
  if (LABEL_NAMED_KINDS.includes(kind)) {
    return name.length <= 63 && DNS_LABEL.test(name) ? undefined : 'is not an RFC 1123 label (at most 63 lower-case letters, digits and dashes, starting and ending with a letter or digit)';
  }
  return name.length <= 253 && DNS_SUBDOMAIN.test(name)
    ? undefined
    : 'is not an RFC 1123 subdomain (lower-case letters, digits, dashes and dots, each dot-separated part starting and ending with a letter or digit, at most 253 characters)';
}

export const validNames: ManifestRule = {
  id: 'DL-K8S-011',
  severity: 'error',
  target: 'manifest',
  kinds: ['*'],
  description: 'Every object and its namespace have names the Kubernetes API server accepts.',
  hint: 'Derive names from environments/naming.ts and validated specs; a Kafka topic name becomes a KafkaTopic name, so it must be a valid object name too.',
  check: (object) => {
    const problems: string[] = [];
    const nameProblem = objectNameProblem(object.kind, object.metadata.name);
    if (nameProblem !== undefined) problems.push(`the name ${JSON.stringify(object.metadata.name)} ${nameProblem}`);
    const namespace = object.metadata.namespace;
    if (namespace !== undefined) {
      const namespaceProblem = objectNameProblem('Namespace', namespace);
      if (namespaceProblem !== undefined) problems.push(`the namespace ${JSON.stringify(namespace)} ${namespaceProblem}`);
    }
    return problems;
  },
};

/** The metadata rules. */
export const METADATA_RULES: readonly ManifestRule[] = [validNames];
