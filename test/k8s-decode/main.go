// k8s-decode strictly decodes every document of a rendered multi-document YAML stream (helm template's output)
// into the Kubernetes API type its apiVersion and kind name, and fails on an unknown field, a duplicate field,
// a value of the wrong type, or a kind it does not know. Used by test/deploy/helm-chart.test.ts; built by
// scripts/ensure-go-tools.sh from this module (k8s.io/api and the Prometheus Operator's
// github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring pinned in go.mod).
//
// Usage: k8s-decode < rendered.yaml   (prints one "ok <apiVersion> <kind> <name>" line per document)
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The kinds a chart may render, each by the one API version the cluster serves it at.
var kinds = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	// The Prometheus Operator's custom resources (kube-prometheus-stack installs their CRDs), by its Go types.
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PodMonitor":     func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "k8s-decode:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	decoded := 0
	for index := 0; ; index++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", index, err)
		}
		if strings.TrimSpace(stripComments(string(doc))) == "" {
			continue
		}
		line, err := decode(doc)
		if err != nil {
			return fmt.Errorf("document %d: %w", index, err)
		}
		fmt.Fprintln(out, line)
		decoded++
	}
	if decoded == 0 {
		return errors.New("no documents to decode")
	}
	return nil
}

func decode(doc []byte) (string, error) {
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return "", err
	}
	key := meta.APIVersion + "/" + meta.Kind
	newObject, ok := kinds[key]
	if !ok {
		return "", fmt.Errorf("unknown apiVersion/kind %q", key)
	}
	object := newObject()
	// UnmarshalStrict: an unknown field, a duplicate key or a wrong type is an error, as `kubectl apply
	// --validate=strict` (the server's strict field validation) would report it.
	if err := yaml.UnmarshalStrict(doc, object); err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	name := object.(metav1.ObjectMetaAccessor).GetObjectMeta().GetName()
	if name == "" {
		return "", fmt.Errorf("%s: no metadata.name", key)
	}
	return fmt.Sprintf("ok %s %s %s", meta.APIVersion, meta.Kind, name), nil
}

func stripComments(doc string) string {
	var kept []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}
