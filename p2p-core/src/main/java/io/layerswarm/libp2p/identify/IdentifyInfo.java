package io.layerswarm.libp2p.identify;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.List;
import java.util.Optional;

/**
 * What a peer says about itself in an identify message.
 *
 * @param publicKey       the peer's identity key (its peer id is derived from it)
 * @param protocolVersion e.g. {@code ipfs/0.1.0}
 * @param agentVersion    implementation name/version
 * @param listenAddrs     addresses the peer listens on (undecodable ones are dropped)
 * @param observedAddr    how the peer sees our address, if sent and decodable
 * @param protocols       protocols the peer serves
 */
public record IdentifyInfo(PublicKey publicKey, String protocolVersion, String agentVersion,
                           List<Multiaddr> listenAddrs, Optional<Multiaddr> observedAddr, List<String> protocols) {

    public IdentifyInfo {
        listenAddrs = List.copyOf(listenAddrs);
        protocols = List.copyOf(protocols);
    }

    /** The peer id derived from {@link #publicKey()}. */
    public PeerId peerId() {
        return PeerId.fromPublicKey(publicKey);
    }
}
