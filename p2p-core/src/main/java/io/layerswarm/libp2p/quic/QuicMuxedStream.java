package io.layerswarm.libp2p.quic;

import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;

/** A QUIC stream seen as a libp2p stream (kept in the stream channel's {@link MuxedStream#KEY} attribute). */
final class QuicMuxedStream implements MuxedStream {
    /** Application error code of a reset stream (libp2p defines none; 0 as other implementations send). */
    static final int RESET_CODE = 0;

    /**
     * {@link #writeAhead()}: quiche accepts about one congestion window of stream data, and Netty's stream channel
     * is unwritable while quiche's capacity is 0; so a writer that follows writability is woken on every
     * acknowledgement, and every scheduling delay of its thread leaves the path idle. With this much queued in
     * Netty's stream channel, its event loop refills quiche itself as acknowledgements arrive (1 MiB, as a Yamux
     * stream's high water mark: 40 ms at 200 Mbit/s, 4x the bandwidth-delay product of the +10 ms inter-cloud
     * path). Overridden by the
     * system property {@code layerswarm.quic.writeAhead} (bytes; 0: follow writability) for benchmarks.
     */
    static final int WRITE_AHEAD = Integer.getInteger("layerswarm.quic.writeAhead", 1 << 20);

    private final QuicStreamChannel channel;

    private QuicMuxedStream(QuicStreamChannel channel) {
        this.channel = channel;
    }

    /** Attaches the adapter to a new stream channel. */
    static void attach(QuicStreamChannel ch) {
        ch.attr(KEY).set(new QuicMuxedStream(ch));
        // The peer's FIN ends its direction only (ChannelInputShutdownEvent); ours may still follow.
        ch.config().setAllowHalfClosure(true);
    }

    @Override
    public boolean isOutbound() {
        return channel.isLocalCreated();
    }

    @Override
    public int writeAhead() {
        return WRITE_AHEAD;
    }

    @Override
    public ChannelFuture shutdownOutput() {
        // A FIN frame through the outbound buffer, after the data queued before it (shutdownOutput() would send
        // the FIN at once, ahead of data still waiting for flow-control credit).
        return channel.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.EMPTY_BUFFER, true));
    }

    @Override
    public ChannelFuture reset() {
        // RESET_STREAM and STOP_SENDING, then drop the channel.
        channel.shutdown(RESET_CODE);
        return channel.close();
    }
}
