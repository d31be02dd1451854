//go:build tools

// Package tools pins github.com/hashicorp/terraform-provider-kubernetes, built by scripts/toolchain/iac.ts.
package tools

import _ "github.com/hashicorp/terraform-provider-kubernetes"
