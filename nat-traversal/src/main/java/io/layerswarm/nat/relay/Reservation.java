package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.List;

/**
 * A reservation granted by a relay (spec {@code Reservation}).
 *
 * @param expireEpochSeconds when it expires (Unix seconds, UTC)
 * @param addrs the relay's addresses, through which the reserving peer is reachable
 * @param voucher the relay's signed voucher (a libp2p signed envelope), empty if none was sent
 */
public record Reservation(long expireEpochSeconds, List<Multiaddr> addrs, byte[] voucher) {

    /** Copies the lists. */
    public Reservation {
        addrs = List.copyOf(addrs);
        voucher = voucher == null ? new byte[0] : voucher.clone();
    }

    @Override
    public byte[] voucher() {
        return voucher.clone();
    }
}
