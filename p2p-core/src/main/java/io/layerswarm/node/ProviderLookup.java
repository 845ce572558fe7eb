package io.layerswarm.node;

import io.layerswarm.oci.Digest;
import java.time.Duration;

/** Finds the providers of a blob (in the DHT) and connects to them, so the swarm can use them as sources. */
@FunctionalInterface
interface ProviderLookup {
    /**
     * Looks up providers of {@code digest} and connects to them, waiting at most {@code timeout}.
     *
     * @return how many providers were newly connected by the time it returned
     */
    int connectProviders(Digest digest, Duration timeout);
}
