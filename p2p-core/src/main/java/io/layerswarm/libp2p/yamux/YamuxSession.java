package io.layerswarm.libp2p.yamux;

import io.layerswarm.libp2p.mux.StreamMuxer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Yamux session as a Netty handler on a connection (above the security layer); its streams are
 * {@link YamuxStreamChannel} child channels on the same event loop.
 *
 * <p>Adding it installs a {@link YamuxFrameDecoder} and {@link YamuxFrameEncoder} in front of it. The
 * dialer side ({@code client=true}) opens odd stream ids, the listener even ones. Inbound streams get
 * {@code inboundHandler} added to their pipeline before registration.
 *
 * <p>Flow control: every stream starts with a 256 KiB receive window; as the application consumes data
 * the consumed credit is returned with window updates, and when a half window is consumed within four
 * round trips (RTT measured with pings) the window doubles, up to {@link YamuxConfig#maxWindow()},
 * while the sum of all windows stays within {@link YamuxConfig#sessionWindowBudget()}. Streams stop
 * sending while the connection is not writable. Reading goes on while unwritable, since stopping it
 * could deadlock two peers that both upload; only if the peer also keeps provoking control replies
 * (pings, resets) while unwritable does the session stop reading until writability returns.
 *
 * <p>Protocol errors (bad header, data beyond the window, bad stream ids) send go-away with the
 * protocol-error code and close the connection.
 */
public final class YamuxSession extends ChannelDuplexHandler implements StreamMuxer {
    /** The multistream-select protocol id of Yamux. */
    public static final String PROTOCOL_ID = "/yamux/1.0.0";

    private static final Logger LOG = LoggerFactory.getLogger(YamuxSession.class);
    private static final int MAX_OUTSTANDING_PINGS = 16;
    private static final int MAX_CONTROL_WHILE_UNWRITABLE = 256;

    private final boolean client;
    private final YamuxConfig config;
    private final ChannelHandler inboundHandler;
    private final LongSupplier clock;
    private final Map<Integer, YamuxStreamChannel> streams = new HashMap<>();
    private final Set<YamuxStreamChannel> blocked = new LinkedHashSet<>();
    private final Map<Long, PendingPing> pings = new LinkedHashMap<>();
    private ChannelHandlerContext ctx;
    private int nextStreamId;
    private long nextPingId = 1;
    private long totalWindow;
    private long rttNanos;
    private boolean localGoAway;
    private boolean remoteGoAway;
    private boolean started;
    private boolean closed;
    private int controlWhileUnwritable;
    private boolean readingSuspended;

    private record PendingPing(Promise<Long> promise, long sentNanos) { }

    /**
     * @param client         true on the side that dialed the connection (odd stream ids)
     * @param config         limits and flow-control policy
     * @param inboundHandler added to each inbound stream's pipeline (must be sharable, typically a
     *                       {@link io.netty.channel.ChannelInitializer})
     */
    public YamuxSession(boolean client, YamuxConfig config, ChannelHandler inboundHandler) {
        this(client, config, inboundHandler, System::nanoTime);
    }

    /** As above with an explicit monotonic clock in nanoseconds (for tests of window tuning). */
    public YamuxSession(boolean client, YamuxConfig config, ChannelHandler inboundHandler, LongSupplier clock) {
        this.client = client;
        this.config = config;
        this.inboundHandler = inboundHandler;
        this.clock = clock;
        this.nextStreamId = client ? 1 : 2;
    }

    // ---- public API --------------------------------------------------------------------------

    /** The connection channel this session runs on. */
    public Channel channel() {
        return ctx.channel();
    }

    /** The configuration in force. */
    public YamuxConfig config() {
        return config;
    }

    /** Latest measured round-trip time in nanoseconds, or 0 before the first ping answer. */
    public long rttNanos() {
        return rttNanos;
    }

    /** Number of streams currently tracked (open or waiting for the peer's FIN). */
    @Override
    public int streamCount() {
        return streams.size();
    }

    /** Whether the peer sent go-away (no new outbound streams are possible). */
    public boolean isRemoteGoAway() {
        return remoteGoAway;
    }

    /**
     * Opens an outbound stream; {@code handler} is added to its pipeline before it is registered.
     * Fails if the session is closing, went away, or has {@link YamuxConfig#maxStreams()} streams.
     */
    @Override
    public Future<YamuxStreamChannel> openStream(ChannelHandler handler) {
        Promise<YamuxStreamChannel> promise = ctx.executor().newPromise();
        if (ctx.executor().inEventLoop()) {
            openNow(handler, promise);
        } else {
            ctx.executor().execute(() -> openNow(handler, promise));
        }
        return promise;
    }

    /** Sends a ping; the future completes with the round-trip time in nanoseconds. */
    @Override
    public Future<Long> ping() {
        Promise<Long> promise = ctx.executor().newPromise();
        ctx.executor().execute(() -> {
            if (closed) {
                promise.tryFailure(new ClosedChannelException());
                return;
            }
            if (pings.size() >= MAX_OUTSTANDING_PINGS) {
                promise.tryFailure(new IOException("too many outstanding yamux pings"));
                return;
            }
            long id = nextPingId++ & 0xFFFF_FFFFL;
            pings.put(id, new PendingPing(promise, clock.getAsLong()));
            ctx.writeAndFlush(YamuxFrame.ping(YamuxFrame.FLAG_SYN, id));
        });
        return promise;
    }

    /** Sends go-away (normal) and closes the connection. */
    @Override
    public Future<Void> close() {
        ctx.executor().execute(() -> goAwayAndClose(YamuxFrame.GO_AWAY_NORMAL));
        return ctx.channel().closeFuture();
    }

    // ---- handler lifecycle -------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.pipeline().addBefore(ctx.name(), null, new YamuxFrameDecoder(config.maxWindow()));
        ctx.pipeline().addBefore(ctx.name(), null, new YamuxFrameEncoder());
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        // First RTT sample for window auto-tuning.
        ping();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        shutdown(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        shutdown(new ClosedChannelException());
    }

    private void shutdown(Throwable cause) {
        if (closed) {
            return;
        }
        closed = true;
        for (YamuxStreamChannel s : new ArrayList<>(streams.values())) {
            s.inSessionMap = false;
            s.onReset(new YamuxStreamResetException("session closed"));
        }
        streams.clear();
        blocked.clear();
        for (PendingPing p : pings.values()) {
            p.promise().tryFailure(cause);
        }
        pings.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof YamuxProtocolException) {
            LOG.debug("event=yamux_protocol_error remote={} reason=\"{}\"", ctx.channel().remoteAddress(),
                    c.getMessage());
            goAwayAndClose(YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
        } else {
            LOG.debug("event=yamux_error remote={} reason=\"{}\"", ctx.channel().remoteAddress(), c.toString());
            goAwayAndClose(YamuxFrame.GO_AWAY_INTERNAL_ERROR);
        }
    }

    private void goAwayAndClose(int code) {
        if (!localGoAway && ctx.channel().isActive()) {
            localGoAway = true;
            ctx.writeAndFlush(YamuxFrame.goAway(code)).addListener(f -> ctx.close());
        } else {
            ctx.close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            controlWhileUnwritable = 0;
            if (readingSuspended) {
                readingSuspended = false;
                ctx.channel().config().setAutoRead(true);
            }
            for (YamuxStreamChannel s : new ArrayList<>(blocked)) {
                if (!ctx.channel().isWritable()) {
                    break;
                }
                blocked.remove(s);
                s.resumeWrites();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---- inbound frames ----------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!(msg instanceof YamuxFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (closed) {
                return;
            }
            switch (frame.type()) {
                case YamuxFrame.TYPE_DATA, YamuxFrame.TYPE_WINDOW_UPDATE -> onStreamFrame(frame);
                case YamuxFrame.TYPE_PING -> onPing(frame);
                case YamuxFrame.TYPE_GO_AWAY -> onGoAway(frame);
                default -> throw new YamuxProtocolException("unknown frame type " + frame.type());
            }
        } finally {
            if (frame.data() != null && frame.data().refCnt() > 0) {
                frame.data().release();
            }
        }
    }

    private void onStreamFrame(YamuxFrame f) throws YamuxProtocolException {
        int id = f.streamId();
        if (id == 0) {
            throw new YamuxProtocolException("stream frame on stream id 0");
        }
        YamuxStreamChannel s = streams.get(id);
        if (f.has(YamuxFrame.FLAG_SYN)) {
            if (s != null) {
                throw new YamuxProtocolException("SYN for existing stream " + id);
            }
            boolean remoteIsClient = !client;
            if (((id & 1) == 1) != remoteIsClient) {
                throw new YamuxProtocolException("peer opened stream " + id + " with our parity");
            }
            if (localGoAway || streams.size() >= config.maxStreams()) {
                LOG.debug("event=yamux_stream_refused stream={} streams={}", id, streams.size());
                ctx.writeAndFlush(YamuxFrame.windowUpdate(id, YamuxFrame.FLAG_RST, 0));
                countControlReply();
                return;
            }
            s = accept(id);
        } else if (s == null) {
            // A stream we already forgot (reset/closed); frames in flight are dropped.
            return;
        }
        if (f.type() == YamuxFrame.TYPE_WINDOW_UPDATE) {
            s.sendWindow += f.length();
            if (s.sendWindow > 0xFFFF_FFFFL) {
                throw new YamuxProtocolException("send window overflow on stream " + id);
            }
            if (f.length() > 0) {
                blocked.remove(s);
                s.resumeWrites();
            }
        } else if (f.length() > 0) {
            if (s.remoteFin) {
                throw new YamuxProtocolException("data after FIN on stream " + id);
            }
            // The whole wire frame is charged on its first piece, against the window the sender saw.
            if (f.charge() > s.recvCredit) {
                throw new YamuxProtocolException("stream " + id + " received a frame of " + f.charge()
                        + " bytes beyond its window of " + s.recvCredit);
            }
            s.recvCredit -= f.charge();
            s.onData(f.data().retain());
        }
        if (f.has(YamuxFrame.FLAG_RST)) {
            removeStream(s);
            s.onReset(new YamuxStreamResetException("stream " + id + " reset by peer"));
            return;
        }
        if (f.has(YamuxFrame.FLAG_FIN) && !s.remoteFin) {
            s.onRemoteFin();
            if (s.localFin) {
                removeStream(s);
            }
        }
    }

    private YamuxStreamChannel accept(int id) {
        YamuxStreamChannel s = newStream(id, false);
        s.pipeline().addLast(inboundHandler);
        ctx.channel().eventLoop().register(s);
        ctx.writeAndFlush(YamuxFrame.windowUpdate(id, YamuxFrame.FLAG_ACK, initialDelta()));
        return s;
    }

    private void onPing(YamuxFrame f) throws YamuxProtocolException {
        if (f.streamId() != 0) {
            throw new YamuxProtocolException("ping on stream " + f.streamId());
        }
        if (f.has(YamuxFrame.FLAG_SYN)) {
            ctx.writeAndFlush(YamuxFrame.ping(YamuxFrame.FLAG_ACK, f.length()));
            countControlReply();
        } else if (f.has(YamuxFrame.FLAG_ACK)) {
            PendingPing p = pings.remove(f.length());
            if (p != null) {
                long rtt = Math.max(1, clock.getAsLong() - p.sentNanos());
                rttNanos = rtt;
                p.promise().trySuccess(rtt);
            }
        }
    }

    private void onGoAway(YamuxFrame f) throws YamuxProtocolException {
        if (f.streamId() != 0) {
            throw new YamuxProtocolException("go-away on stream " + f.streamId());
        }
        remoteGoAway = true;
        LOG.debug("event=yamux_go_away remote={} code={}", ctx.channel().remoteAddress(), f.length());
        if (f.length() != YamuxFrame.GO_AWAY_NORMAL) {
            ctx.close();
        }
    }

    /** A peer that floods control frames while not reading our replies gets its reads paused. */
    private void countControlReply() {
        if (!ctx.channel().isWritable() && ++controlWhileUnwritable > MAX_CONTROL_WHILE_UNWRITABLE
                && !readingSuspended) {
            readingSuspended = true;
            ctx.channel().config().setAutoRead(false);
            LOG.debug("event=yamux_reads_paused remote={}", ctx.channel().remoteAddress());
        }
    }

    // ---- outbound streams --------------------------------------------------------------------

    private void openNow(ChannelHandler handler, Promise<YamuxStreamChannel> promise) {
        if (closed || !ctx.channel().isActive()) {
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        if (remoteGoAway || localGoAway) {
            promise.tryFailure(new IOException("yamux session is going away"));
            return;
        }
        if (streams.size() >= config.maxStreams()) {
            promise.tryFailure(new IOException("yamux stream limit " + config.maxStreams() + " reached"));
            return;
        }
        if (nextStreamId < 0) {
            promise.tryFailure(new IOException("yamux stream ids exhausted"));
            return;
        }
        int id = nextStreamId;
        nextStreamId += 2;
        YamuxStreamChannel s = newStream(id, true);
        ctx.writeAndFlush(YamuxFrame.windowUpdate(id, YamuxFrame.FLAG_SYN, initialDelta()));
        if (handler != null) {
            s.pipeline().addLast(handler);
        }
        ctx.channel().eventLoop().register(s).addListener(f -> {
            if (f.isSuccess()) {
                promise.trySuccess(s);
            } else {
                promise.tryFailure(f.cause());
            }
        });
    }

    private YamuxStreamChannel newStream(int id, boolean outbound) {
        YamuxStreamChannel s = new YamuxStreamChannel(this, id, outbound, config.initialWindow());
        s.epochStart = clock.getAsLong();
        streams.put(id, s);
        totalWindow += s.recvWindowMax;
        return s;
    }

    private long initialDelta() {
        return config.initialWindow() - YamuxConfig.SPEC_INITIAL_WINDOW;
    }

    private void removeStream(YamuxStreamChannel s) {
        if (s.inSessionMap) {
            s.inSessionMap = false;
            streams.remove(s.streamId());
            blocked.remove(s);
            totalWindow -= s.recvWindowMax;
        }
    }

    // ---- called by streams -------------------------------------------------------------------

    boolean canSendData() {
        return !closed && ctx.channel().isWritable();
    }

    int maxFrameSize() {
        return config.maxFrameSize();
    }

    void blocked(YamuxStreamChannel s) {
        if (s.inSessionMap) {
            blocked.add(s);
        }
    }

    void writeData(YamuxStreamChannel s, ByteBuf data) {
        ctx.write(YamuxFrame.data(s.streamId(), 0, data), ctx.voidPromise());
    }

    void flushParent() {
        ctx.flush();
    }

    void sendFin(YamuxStreamChannel s) {
        s.localFin = true;
        if (s.inSessionMap) {
            ctx.write(YamuxFrame.windowUpdate(s.streamId(), YamuxFrame.FLAG_FIN, 0), ctx.voidPromise());
            if (s.remoteFin) {
                removeStream(s);
            }
        }
    }

    void sendReset(YamuxStreamChannel s) {
        if (s.inSessionMap) {
            removeStream(s);
            ctx.writeAndFlush(YamuxFrame.windowUpdate(s.streamId(), YamuxFrame.FLAG_RST, 0), ctx.voidPromise());
        }
    }

    /** Credits consumed bytes back to the peer, growing the window when it limits throughput. */
    void onConsumed(YamuxStreamChannel s, long n) {
        s.consumed += n;
        if (!s.inSessionMap || s.remoteFin || s.consumed < s.recvWindowMax / 2) {
            return;
        }
        long now = clock.getAsLong();
        long delta = s.consumed;
        if (rttNanos > 0 && now - s.epochStart < 4 * rttNanos && s.recvWindowMax < config.maxWindow()) {
            int grown = (int) Math.min(2L * s.recvWindowMax, config.maxWindow());
            long growth = grown - s.recvWindowMax;
            if (totalWindow + growth <= config.sessionWindowBudget()) {
                s.recvWindowMax = grown;
                totalWindow += growth;
                delta += growth;
                LOG.trace("event=yamux_window_grow stream={} window={}", s.streamId(), grown);
            }
        }
        s.epochStart = now;
        s.consumed = 0;
        s.recvCredit += delta;
        ctx.writeAndFlush(YamuxFrame.windowUpdate(s.streamId(), 0, delta), ctx.voidPromise());
    }

    void onStreamClosed(YamuxStreamChannel s, int discardedBytes) {
        if (!s.inSessionMap) {
            return;
        }
        if (s.reset) {
            sendReset(s);
            return;
        }
        if (!s.localFin) {
            sendFin(s);
            ctx.flush();
        }
        if (s.remoteFin) {
            removeStream(s);
            return;
        }
        if (discardedBytes > 0) {
            onConsumed(s, discardedBytes);
        }
        // Wait for the peer's FIN a bounded time, then reset so the stream slot is freed.
        ctx.executor().schedule(() -> {
            if (s.inSessionMap) {
                sendReset(s);
            }
        }, config.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
}
