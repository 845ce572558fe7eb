package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.List;
import java.util.Objects;

/**
 * A peer named in a relay message (spec {@code Peer}).
 *
 * @param id the peer
 * @param addrs its addresses, possibly empty
 */
public record RelayPeer(PeerId id, List<Multiaddr> addrs) {

    /** Copies the address list. */
    public RelayPeer {
        Objects.requireNonNull(id, "id");
        addrs = List.copyOf(addrs);
    }
}
