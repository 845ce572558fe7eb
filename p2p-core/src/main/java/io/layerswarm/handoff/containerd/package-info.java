/**
 * The handoff's {@link io.layerswarm.handoff.ContainerRuntime} on containerd, driven through its
 * {@code ctr} client, and the CRIU-backed {@link io.layerswarm.handoff.CheckpointSource}.
 */
package io.layerswarm.handoff.containerd;
