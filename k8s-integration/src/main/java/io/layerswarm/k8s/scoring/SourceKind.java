package io.layerswarm.k8s.scoring;

/** Where a layer comes from. */
public enum SourceKind {
    /** Already in the node's cache. */
    LOCAL,
    /** An in-cluster peer that holds it. */
    PEER,
    /** A registry (the image's own, or a nearby mirror the node measured). */
    REGISTRY
}
