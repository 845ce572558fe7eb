package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.concurrent.CompletableFuture;

/**
 * A way to reach peers that a {@link Host}'s built-in TCP dialer does not handle (relay circuits,
 * datagram paths, ...), registered with {@link Host#addTransport}. A transport produces a byte channel
 * and hands it to {@link Host#upgrade} for security and muxing, so the result is an ordinary
 * {@link Connection}.
 */
public interface Transport {

    /** Whether this transport dials {@code addr} (checked before TCP). */
    boolean canDial(Multiaddr addr);

    /** Dials {@code addr}, which ends in the target's {@code /p2p/ID}. */
    CompletableFuture<Connection> dial(Multiaddr addr);
}
