package io.layerswarm.nat.dcutr;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.List;
import java.util.Objects;

/**
 * One DCUtR message: CONNECT carries the sender's addresses (observed by others, or listened on), SYNC none.
 *
 * @param type CONNECT or SYNC
 * @param addrs the addresses the sender may be dialled at ({@code ObsAddrs}; those of protocols this node does
 *     not know are left out when decoding)
 */
public record HolePunch(Type type, List<Multiaddr> addrs) {
    /** The message types, with the spec's wire numbers. */
    public enum Type {
        /** Addresses, from the side that starts and then from the answering side. */
        CONNECT,
        /** Sent by the starting side after the CONNECT exchange: both dial now. */
        SYNC
    }

    /** Checks the fields. */
    public HolePunch {
        Objects.requireNonNull(type, "type");
        addrs = List.copyOf(addrs);
        if (type == Type.SYNC && !addrs.isEmpty()) {
            throw new IllegalArgumentException("SYNC carries no addresses");
        }
    }

    /** A CONNECT with {@code addrs}. */
    public static HolePunch connect(List<Multiaddr> addrs) {
        return new HolePunch(Type.CONNECT, addrs);
    }

    /** The SYNC message. */
    public static HolePunch sync() {
        return new HolePunch(Type.SYNC, List.of());
    }
}
