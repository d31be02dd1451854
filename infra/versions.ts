/**
 * Every version the AWS side pins, in one place: a bump is a one-line, reviewable change.
 * Add-on versions are per EKS version, so an environment cannot move to an EKS version whose add-ons
 * have not been chosen (the environment schema only accepts versions listed here).
 */
import type { SUPPORTED_EKS_VERSIONS } from '../environments/schema';

/** The EKS add-ons every cluster runs, as managed add-ons. */
export const EKS_ADDONS = ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent', 'coredns', 'aws-ebs-csi-driver'] as const;
export type EksAddonName = (typeof EKS_ADDONS)[number];

/** Add-on versions for each supported EKS version. */
export const EKS_ADDON_VERSIONS: Record<(typeof SUPPORTED_EKS_VERSIONS)[number], Record<EksAddonName, string>> = {
  // As published for 1.34 in 2026-08; check with `aws eks describe-addon-versions --kubernetes-version 1.34`.
  '1.34': {
    'vpc-cni': 'v1.22.3-eksbuild.1',
    'kube-proxy': 'v1.34.6-eksbuild.13',
    'eks-pod-identity-agent': 'v1.3.10-eksbuild.3',
    coredns: 'v1.13.2-eksbuild.11',
    'aws-ebs-csi-driver': 'v1.62.0-eksbuild.1',
  },
};

/** Argo CD 3.5.1, installed by the bootstrap stack from its official Helm chart. */
export const ARGO_CD_CHART = { repository: 'https://argoproj.github.io/argo-helm', chart: 'argo-cd', version: '10.4.0' } as const;

/** The root Application (app of apps), installed with the argocd-apps chart once Argo CD's CRDs exist. */
export const ARGO_CD_APPS_CHART = { repository: 'https://argoproj.github.io/argo-helm', chart: 'argocd-apps', version: '2.0.5' } as const;
