//go:build tools

// Package tools pins helm.sh/helm/v3, whose command scripts/toolchain/kube.ts builds to render the operator charts.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
