// Package k8s holds no code: its tests decode deploy/k8s's Kustomize manifests into the typed Kubernetes
// API objects and check them against the teplokarta binary. A module of its own, so that k8s.io/api stays
// out of the main module's dependencies.
package k8s
