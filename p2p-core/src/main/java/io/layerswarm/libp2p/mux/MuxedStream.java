package io.layerswarm.libp2p.mux;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.util.AttributeKey;

/**
 * What the host and the protocols need of one stream of a multiplexed connection, whichever muxer made it
 * (a Yamux stream channel implements it; a QUIC stream channel, which Netty creates, carries an adapter in
 * its {@link #KEY} attribute). The stream's data flow through its {@link Channel}; the peer's half-close
 * arrives as a {@link io.netty.channel.socket.ChannelInputShutdownEvent}.
 */
public interface MuxedStream {

    /** Attribute of a stream channel that is not itself a {@code MuxedStream}: its adapter. */
    AttributeKey<MuxedStream> KEY = AttributeKey.valueOf(MuxedStream.class, "muxed-stream");

    /** Whether this side opened the stream. */
    boolean isOutbound();

    /** Half-closes this side (FIN after the data written before); the peer can still send. */
    ChannelFuture shutdownOutput();

    /** Aborts the stream in both directions; pending writes fail. */
    ChannelFuture reset();

    /**
     * How many bytes a blocking writer may have written to the stream's channel that the transport has not taken
     * yet (write futures not completed), whatever the channel's writability says; 0 (the default): the writer
     * follows the channel's writability. A transport whose channel turns unwritable as soon as its own small
     * send buffer is full (QUIC: quiche takes about one congestion window) uses this so the next data is already
     * queued when acknowledgements open the window, instead of waiting for the writer's thread to be scheduled.
     */
    default int writeAhead() {
        return 0;
    }

    /**
     * The stream behind {@code ch}.
     *
     * @throws IllegalArgumentException if {@code ch} is not a stream of a muxed connection
     */
    static MuxedStream of(Channel ch) {
        if (ch instanceof MuxedStream s) {
            return s;
        }
        MuxedStream s = ch.attr(KEY).get();
        if (s == null) {
            throw new IllegalArgumentException("not a muxed stream: " + ch);
        }
        return s;
    }
}
