package io.layerswarm.k8s.orchestrator;

import io.layerswarm.k8s.scoring.SourceKind;
import java.util.List;

/**
 * Transfers that bring every target all of an image's layers.
 *
 * @param transfers in wave order
 */
public record TransferPlan(List<Transfer> transfers) {

    /** Copies. */
    public TransferPlan {
        transfers = List.copyOf(transfers);
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
