//go:build tools

// Package tools pins github.com/opentofu/opentofu/cmd/tofu, built by scripts/toolchain/iac.ts.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
