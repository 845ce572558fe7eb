package io.layerswarm.libp2p.yamux;

import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * One Yamux stream as a Netty child {@link io.netty.channel.Channel} of the session's channel, on the
 * same event loop. Reads deliver the peer's data ({@code ByteBuf}s); the receive window is credited back
 * to the peer as data is delivered, so a stream that stops reading ({@code autoRead=false}) stops the
 * peer after one window. Writes accept {@code ByteBuf}s, are cut into frames within the send window and
 * wait (keeping the channel's own water marks meaningful) while the window is exhausted or the session
 * channel is not writable.
 *
 * <p>{@link #shutdownOutput()} half-closes (FIN) after previously written data; the peer's FIN arrives
 * as {@link ChannelInputShutdownEvent}. When both directions are finished the channel closes itself.
 * {@link #close()} sends FIN if not yet sent and stops delivering; {@link #reset()} aborts with RST.
 */
public final class YamuxStreamChannel extends AbstractChannel implements MuxedStream {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);
    /** Written through the outbound buffer so the FIN goes out after the data queued before it. */
    private static final Object FIN_MARKER = new Object() {
        @Override
        public String toString() {
            return "FIN";
        }
    };

    private final YamuxSession session;
    private final int streamId;
    private final boolean outbound;
    private final DefaultChannelConfig config;
    private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
    private boolean open = true;
    private boolean readPending;
    private boolean inReadLoop;
    private boolean inputShutdownFired;
    private boolean writing;
    private boolean rewrite;

    // State below is driven by YamuxSession, always on the event loop.
    boolean localFin;
    boolean remoteFin;
    boolean reset;
    boolean inSessionMap = true;
    long sendWindow;
    long recvCredit;
    int recvWindowMax;
    long consumed;
    long epochStart;
    int bufferedBytes;

    YamuxStreamChannel(YamuxSession session, int streamId, boolean outbound, int recvWindow) {
        super(session.channel());
        this.session = session;
        this.streamId = streamId;
        this.outbound = outbound;
        this.config = new DefaultChannelConfig(this);
        this.config.setWriteBufferWaterMark(new WriteBufferWaterMark(256 * 1024, 1024 * 1024));
        this.sendWindow = YamuxConfig.SPEC_INITIAL_WINDOW;
        this.recvWindowMax = recvWindow;
        this.recvCredit = recvWindow;
    }

    /** Yamux stream id (odd: opened by the dialer side, even: by the listener side). */
    public int streamId() {
        return streamId;
    }

    /** Whether this side opened the stream. */
    @Override
    public boolean isOutbound() {
        return outbound;
    }

    /** The session this stream belongs to. */
    public YamuxSession session() {
        return session;
    }

    /** Current receive window granted to the peer for this stream (grows with auto-tuning). */
    public int receiveWindow() {
        return recvWindowMax;
    }

    /** Half-closes this side: sends FIN after all data written before. The peer can still send. */
    @Override
    public ChannelFuture shutdownOutput() {
        return writeAndFlush(FIN_MARKER);
    }

    /** Aborts the stream in both directions with RST; pending writes fail. */
    @Override
    public ChannelFuture reset() {
        ChannelPromise p = newPromise();
        if (eventLoop().inEventLoop()) {
            resetNow(p);
        } else {
            try {
                eventLoop().execute(() -> resetNow(p));
            } catch (RejectedExecutionException e) {
                // the host closed (its event loops are gone, and the connection with them): nothing left to reset
                p.tryFailure(e);
            }
        }
        return p;
    }

    private void resetNow(ChannelPromise p) {
        if (!reset && inSessionMap) {
            session.sendReset(this);
        }
        reset = true;
        close(p);
    }

    // ---- driven by the session -------------------------------------------------------------

    void onData(ByteBuf data) {
        if (!open) {
            int n = data.readableBytes();
            data.release();
            session.onConsumed(this, n);
            return;
        }
        bufferedBytes += data.readableBytes();
        inbound.add(data);
        drain();
    }

    void onRemoteFin() {
        remoteFin = true;
        drain();
    }

    void onReset(YamuxStreamResetException cause) {
        reset = true;
        if (open) {
            pipeline().fireExceptionCaught(cause);
            close();
        }
    }

    void resumeWrites() {
        if (writing) {
            // Called back synchronously from our own flush (the connection became writable while we
            // flushed it): the flush guard would swallow a nested flush, so loop in doWrite instead.
            rewrite = true;
        } else if (open && isRegistered()) {
            unsafe().flush();
        }
    }

    private void drain() {
        if (inReadLoop || !isRegistered()) {
            return;
        }
        inReadLoop = true;
        try {
            while (readPending && open && !inbound.isEmpty()) {
                readPending = false;
                int delivered = 0;
                ByteBuf b;
                while (open && (b = inbound.poll()) != null) {
                    int n = b.readableBytes();
                    bufferedBytes -= n;
                    delivered += n;
                    pipeline().fireChannelRead(b);
                }
                pipeline().fireChannelReadComplete();
                session.onConsumed(this, delivered);
            }
            if (open && remoteFin && inbound.isEmpty() && !inputShutdownFired) {
                inputShutdownFired = true;
                pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
                closeIfFinished();
            }
        } finally {
            inReadLoop = false;
        }
    }

    private void closeIfFinished() {
        if (open && localFin && inputShutdownFired) {
            eventLoop().execute(this::close);
        }
    }

    // ---- AbstractChannel -------------------------------------------------------------------

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new AbstractUnsafe() {
            @Override
            public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
                promise.setFailure(new UnsupportedOperationException("yamux streams are opened by the session"));
            }
        };
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true;
    }

    @Override
    protected SocketAddress localAddress0() {
        return parent().localAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return parent().remoteAddress();
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("bind");
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        ByteBuf b;
        int released = 0;
        while ((b = inbound.poll()) != null) {
            released += b.readableBytes();
            b.release();
        }
        bufferedBytes = 0;
        session.onStreamClosed(this, released);
    }

    @Override
    protected void doBeginRead() {
        readPending = true;
        drain();
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        writing = true;
        try {
            do {
                rewrite = false;
                writeSome(in);
            } while (rewrite);
        } finally {
            writing = false;
        }
    }

    private void writeSome(ChannelOutboundBuffer in) {
        boolean wrote = false;
        try {
            for (;;) {
                Object msg = in.current();
                if (msg == null) {
                    break;
                }
                if (reset) {
                    in.remove(new YamuxStreamResetException("stream " + streamId + " was reset"));
                    continue;
                }
                if (localFin) {
                    in.remove(new ClosedChannelException());
                    continue;
                }
                if (msg == FIN_MARKER) {
                    session.sendFin(this);
                    wrote = true;
                    in.remove();
                    closeIfFinished();
                    continue;
                }
                if (!(msg instanceof ByteBuf buf)) {
                    in.remove(new UnsupportedOperationException("yamux streams carry ByteBuf, got "
                            + msg.getClass().getName()));
                    continue;
                }
                if (!buf.isReadable()) {
                    in.remove();
                    continue;
                }
                if (sendWindow <= 0 || !session.canSendData()) {
                    session.blocked(this);
                    break;
                }
                int n = (int) Math.min(Math.min(buf.readableBytes(), sendWindow), session.maxFrameSize());
                session.writeData(this, buf.readRetainedSlice(n));
                sendWindow -= n;
                wrote = true;
                if (!buf.isReadable()) {
                    in.remove();
                }
            }
        } finally {
            if (wrote) {
                session.flushParent();
            }
        }
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && !reset;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public String toString() {
        return "YamuxStream{id=" + streamId + " " + parent() + "}";
    }
}
