/**
 * Operating a node: Prometheus metrics ({@link io.layerswarm.metrics.NodeMetrics}, from the
 * Prometheus Java client) and the HTTP endpoint that serves them with a health check
 * ({@link io.layerswarm.metrics.MetricsServer}: {@code /metrics}, {@code /healthz}).
 */
package io.layerswarm.metrics;
