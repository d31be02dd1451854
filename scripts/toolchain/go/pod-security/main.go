// Command pod-security evaluates pod templates with Kubernetes' own Pod Security admission library, the code the
// API server runs to enforce the `pod-security.kubernetes.io/enforce` label of a namespace.
//
// Input (stdin): a JSON array of {"id", "level", "version", "metadata", "spec"}, where level and version are the
// namespace's enforce label and enforce-version label ("latest" or "v1.34"), metadata the pod template's metadata and
// spec its PodSpec. Unknown fields are errors, so a template the API server would not decode is not waved through.
// Output (stdout): a JSON array in the same order of {"id", "allowed", "forbidden": [{"reason", "detail"}]}.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type request struct {
	ID       string            `json:"id"`
	Level    string            `json:"level"`
	Version  string            `json:"version"`
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     corev1.PodSpec    `json:"spec"`
}

type forbidden struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type verdict struct {
	ID        string      `json:"id"`
	Allowed   bool        `json:"allowed"`
	Forbidden []forbidden `json:"forbidden"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pod-security: %v\n", err)
		os.Exit(2)
	}
}

func run() error {
	decoder := json.NewDecoder(os.Stdin)
	decoder.DisallowUnknownFields()
	var requests []request
	if err := decoder.Decode(&requests); err != nil {
		return fmt.Errorf("reading the pods to evaluate: %w", err)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		return err
	}
	verdicts := make([]verdict, 0, len(requests))
	for _, r := range requests {
		level, err := api.ParseLevel(r.Level)
		if err != nil {
			return fmt.Errorf("%s: level %q: %w", r.ID, r.Level, err)
		}
		version, err := api.ParseVersion(r.Version)
		if err != nil {
			return fmt.Errorf("%s: version %q: %w", r.ID, r.Version, err)
		}
		v := verdict{ID: r.ID, Allowed: true, Forbidden: []forbidden{}}
		for _, result := range evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: version}, &r.Metadata, &r.Spec) {
			if !result.Allowed {
				v.Allowed = false
				v.Forbidden = append(v.Forbidden, forbidden{Reason: result.ForbiddenReason, Detail: result.ForbiddenDetail})
			}
		}
		verdicts = append(verdicts, v)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	return encoder.Encode(verdicts)
}
