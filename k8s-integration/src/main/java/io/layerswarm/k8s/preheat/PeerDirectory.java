package io.layerswarm.k8s.preheat;

import io.layerswarm.libp2p.crypto.PeerId;
import java.util.Optional;

/** Which swarm peer runs a Kubernetes node: plans name nodes, the protocol names peers. */
@FunctionalInterface
public interface PeerDirectory {

    /** The peer that runs {@code nodeName}, if known. */
    Optional<PeerId> peerOf(String nodeName);
}
