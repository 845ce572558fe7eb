package io.layerswarm.libp2p.quic;

import io.layerswarm.libp2p.mux.StreamMuxer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * QUIC's own streams as the connection's muxer (libp2p QUIC has no Yamux): each bidirectional QUIC stream is
 * one libp2p stream. Inbound streams go to the host's handler once the connection was adopted.
 */
final class QuicMuxer implements StreamMuxer {
    static final AttributeKey<QuicMuxer> KEY = AttributeKey.valueOf(QuicMuxer.class, "quic-muxer");

    private final QuicChannel channel;
    private final ChannelHandler inbound;
    private final AtomicInteger streams = new AtomicInteger();

    QuicMuxer(QuicChannel channel, ChannelHandler inbound) {
        this.channel = channel;
        this.inbound = inbound;
        channel.attr(KEY).set(this);
    }

    /** Sets up an inbound stream: the host's handler, or a reset while the connection is not adopted. */
    static void acceptInbound(QuicStreamChannel ch) {
        QuicMuxer m = ch.parent().attr(KEY).get();
        if (ch.type() == QuicStreamType.UNIDIRECTIONAL || m == null) {
            // libp2p uses bidirectional streams only; ours carry keep-alive probes and end at once.
            ch.shutdown(QuicMuxedStream.RESET_CODE);
            ch.close();
            return;
        }
        m.track(ch);
        ch.pipeline().addLast(m.inbound);
    }

    private void track(QuicStreamChannel ch) {
        QuicMuxedStream.attach(ch);
        streams.incrementAndGet();
        ch.closeFuture().addListener(f -> streams.decrementAndGet());
    }

    @Override
    public Future<QuicStreamChannel> openStream(ChannelHandler handler) {
        return channel.createStream(QuicStreamType.BIDIRECTIONAL, new ChannelInitializer<QuicStreamChannel>() {
            @Override
            protected void initChannel(QuicStreamChannel ch) {
                track(ch);
                ch.pipeline().addLast(handler);
            }
        });
    }

    /**
     * Sends an ack-eliciting packet (a unidirectional stream that ends at once; Netty exposes no PING frame),
     * so a quiet connection outlives the idle timeout while the peer answers; the round trip is quiche's
     * smoothed RTT of the path. A peer that stopped answering is detected by QUIC's idle timeout.
     */
    @Override
    public Future<Long> ping() {
        Promise<Long> p = channel.eventLoop().newPromise();
        channel.createStream(QuicStreamType.UNIDIRECTIONAL, new ChannelInitializer<QuicStreamChannel>() {
            @Override
            protected void initChannel(QuicStreamChannel ch) {
            }
        }).addListener(f -> {
            if (!f.isSuccess()) {
                p.tryFailure(f.cause());
                return;
            }
            QuicStreamChannel s = (QuicStreamChannel) f.getNow();
            s.shutdownOutput().addListener(w -> {
                s.close();
                if (!w.isSuccess()) {
                    p.tryFailure(w.cause());
                    return;
                }
                channel.collectPathStats(0).addListener(st -> {
                    if (st.isSuccess()) {
                        long rtt = ((io.netty.handler.codec.quic.QuicConnectionPathStats) st.getNow()).rtt();
                        p.trySuccess(rtt);
                    } else {
                        p.tryFailure(st.cause());
                    }
                });
            });
        });
        return p;
    }

    @Override
    public Future<Void> close() {
        channel.close(true, 0, Unpooled.EMPTY_BUFFER);
        return channel.closeFuture();
    }

    @Override
    public int streamCount() {
        return streams.get();
    }

    /** The QUIC connection. */
    Channel channel() {
        return channel;
    }
}
