/**
 * Rules for access inside the cluster: no credentials committed as Secrets (External Secrets brings them),
 * and RBAC without wildcards, escalation verbs or blanket access to Secrets.
 */
import type { ManifestRule } from './rule';

export const noSecretsInGit: ManifestRule = {
  id: 'DL-SECRET-001',
  severity: 'error',
  target: 'manifest',
  kinds: ['Secret'],
  description: 'No Secret with data is committed: credentials come from AWS Secrets Manager through External Secrets.',
  hint: 'Replace the Secret by an ExternalSecret, or suppress DL-SECRET-001 next to it if it holds nothing confidential.',
  check: (secret) => {
    const keys = [...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})];
    return keys.length === 0 ? [] : [`Secret ${secret.metadata.name} is committed to Git with the keys ${keys.sort().join(', ')}`];
  },
};

const ESCALATING_VERBS = ['escalate', 'bind', 'impersonate'];
// list and watch return every Secret's data whatever resourceNames say: only get is limited by name.
const SECRET_READ_VERBS = ['get'];

export const rbacScoped: ManifestRule = {
  id: 'DL-RBAC-001',
  severity: 'error',
  target: 'manifest',
  kinds: ['Role', 'ClusterRole'],
  description: "Roles name their API groups, resources and verbs (no '*') and grant no escalate, bind or impersonate.",
  hint: 'List exactly the resources and verbs the workload uses (see SPARK_DRIVER_RULES in k8s/charts/spark-chart.ts).',
  check: (role) => {
    const rules: Array<Record<string, any>> = Array.isArray(role.rules) ? role.rules : [];
    return rules.flatMap((rule, index) => [
      ...(['apiGroups', 'resources', 'verbs'] as const)
        .filter((field) => Array.isArray(rule[field]) && rule[field].includes('*'))
        .map((field) => `${role.kind} ${role.metadata.name} rule ${index} grants '*' in ${field}`),
      ...(Array.isArray(rule.verbs) ? rule.verbs : [])
        .filter((verb: string) => ESCALATING_VERBS.includes(verb))
        .map((verb: string) => `${role.kind} ${role.metadata.name} rule ${index} grants the escalating verb ${verb}`),
    ]);
  },
};

export const secretsByName: ManifestRule = {
  id: 'DL-RBAC-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['Role', 'ClusterRole'],
  description: 'Access to Secrets is get on named Secrets (resourceNames) only: list and watch would return every Secret.',
  hint: 'Add resourceNames with the Secrets the workload reads, and grant only get.',
  check: (role) => {
    const rules: Array<Record<string, any>> = Array.isArray(role.rules) ? role.rules : [];
    return rules
      .filter((rule) => Array.isArray(rule.resources) && (rule.resources.includes('secrets') || rule.resources.includes('*')))
      .flatMap((rule) => {
        const index = rules.indexOf(rule);
        const named = Array.isArray(rule.resourceNames) && rule.resourceNames.length > 0;
        const beyondGet = (Array.isArray(rule.verbs) ? rule.verbs : []).filter((verb: string) => !SECRET_READ_VERBS.includes(verb));
        return [
          ...(named ? [] : [`${role.kind} ${role.metadata.name} rule ${index} reaches every Secret of its scope (no resourceNames)`]),
          ...(beyondGet.length === 0 ? [] : [`${role.kind} ${role.metadata.name} rule ${index} may ${beyondGet.join(', ')} Secrets (only get is limited by resourceNames)`]),
        ];
      });
  },
};

/** The access rules. */
export const ACCESS_RULES: readonly ManifestRule[] = [noSecretsInGit, rbacScoped, secretsByName];
