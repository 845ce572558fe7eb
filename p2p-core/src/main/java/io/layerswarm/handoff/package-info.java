/**
 * Service handoff, the filesystem part: a container's writable layer is scanned into a
 * content-addressed {@link io.layerswarm.handoff.Manifest} ({@link io.layerswarm.handoff.TreeScanner}),
 * each round sends only what changed since the previous round and what the target does not already
 * hold ({@link io.layerswarm.handoff.RoundPlanner}, {@link io.layerswarm.handoff.RoundWriter}), and
 * the target applies the round into a staging tree while receiving and promotes it atomically
 * ({@link io.layerswarm.handoff.RoundReceiver}).
 */
package io.layerswarm.handoff;
