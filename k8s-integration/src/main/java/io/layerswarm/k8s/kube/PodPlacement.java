package io.layerswarm.k8s.kube;

import java.util.List;

/**
 * A pod the API server shows assigned to a node.
 *
 * @param namespace pod namespace
 * @param name pod name
 * @param uid pod UID
 * @param node the node it runs on
 * @param images its container images, init containers first
 */
public record PodPlacement(String namespace, String name, String uid, String node, List<String> images) {

    /** Copies. */
    public PodPlacement {
        images = List.copyOf(images);
    }
}
