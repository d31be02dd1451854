/**
 * What the monitoring chart (k8s/rendered/<env>/monitoring) and the kube-prometheus-stack values (the
 * Application in k8s/rendered/<env>/apps) must agree on: secret names and keys, and the dashboard label.
 */
import { secretsPrefix } from '../environments/naming';
import type { EnvironmentName } from '../environments/schema';

/** The ClusterSecretStore that reads AWS Secrets Manager with External Secrets' Pod Identity role. */
export const CLUSTER_SECRET_STORE = 'aws-secrets-manager';

/** Grafana's admin credentials: a Secret made by an ExternalSecret from Secrets Manager. */
export const GRAFANA_ADMIN_SECRET = {
  name: 'grafana-admin',
  userKey: 'admin-user',
  passwordKey: 'admin-password',
  /** The Secrets Manager secret (JSON with `username` and `password`). */
  remoteKey: (env: EnvironmentName) => `${secretsPrefix(env)}grafana-admin`,
} as const;

/** Alertmanager's receiver credentials, mounted into Alertmanager at /etc/alertmanager/secrets/<name>/. */
export const ALERTMANAGER_SECRET = {
  name: 'alertmanager-receivers',
  pagerdutyKey: 'pagerduty-routing-key',
  slackKey: 'slack-webhook-url',
  deadMansSwitchKey: 'dead-mans-switch-url',
  /** The Secrets Manager secret (JSON with `pagerdutyRoutingKey`, `slackWebhookUrl` and `deadMansSwitchUrl`, as the environment needs). */
  remoteKey: (env: EnvironmentName) => `${secretsPrefix(env)}alertmanager`,
} as const;

/** The label by which Grafana's sidecar finds dashboard ConfigMaps in every namespace. */
export const DASHBOARD_LABEL = { grafana_dashboard: '1' } as const;
