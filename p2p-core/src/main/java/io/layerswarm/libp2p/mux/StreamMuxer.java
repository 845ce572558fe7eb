package io.layerswarm.libp2p.mux;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.util.concurrent.Future;

/**
 * The stream multiplexer of one connection: Yamux over a secured byte stream, or the transport's own
 * streams (QUIC). Streams it opens or accepts are channels whose {@link MuxedStream#of} works.
 */
public interface StreamMuxer {

    /** Opens an outbound stream; {@code handler} is added to its pipeline before it is registered. */
    Future<? extends Channel> openStream(ChannelHandler handler);

    /** A liveness probe of the connection; completes with the round-trip time in nanoseconds. */
    Future<Long> ping();

    /** Closes the connection gracefully. */
    Future<Void> close();

    /** Streams currently open (a connection without streams may be closed when idle). */
    int streamCount();
}
