package io.layerswarm.k8s.orchestrator;

import io.layerswarm.k8s.scoring.SourceKind;
import java.util.List;
import java.util.Set;

/**
 * Transfers that bring every target all of an image's layers.
 *
 * @param transfers in wave order
 * @param alsoFetching nodes outside the plan that fetch the same image now (an earlier plan's targets):
 *     the plan may name them as sources, and its targets connect to all of them, so their swarms share
 *     one registry fetch
 */
public record TransferPlan(List<Transfer> transfers, Set<String> alsoFetching) {

    /** Copies. */
    public TransferPlan {
        transfers = List.copyOf(transfers);
        alsoFetching = Set.copyOf(alsoFetching);
    }

    /** A plan with no other fetches of the image running. */
    public TransferPlan(List<Transfer> transfers) {
        this(transfers, Set.of());
    }

    /** Bytes the plan takes from registries (over the uplink). */
    public long registryBytes() {
        return transfers.stream().filter(t -> t.kind() == SourceKind.REGISTRY).mapToLong(Transfer::size).sum();
    }

    /** The transfers one target performs. */
    public List<Transfer> forTarget(String target) {
        return transfers.stream().filter(t -> t.target().equals(target)).toList();
    }
}
