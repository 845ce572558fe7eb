package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * A negotiated libp2p stream: a stream channel of the connection's muxer (Yamux, or QUIC's own streams) whose
 * protocol was agreed with multistream-select.
 * Use it Netty-style through {@link #channel()} (data are {@code ByteBuf}s; the peer's half-close is
 * a {@link io.netty.channel.socket.ChannelInputShutdownEvent}), or, when it was opened for blocking
 * use, through {@link #inputStream()} / {@link #outputStream()}.
 */
public final class P2pStream {
    private final Connection connection;
    private final Channel channel;
    private final MuxedStream stream;
    private final String protocol;
    private volatile BlockingStreamAdapter blocking;

    P2pStream(Connection connection, Channel channel, String protocol) {
        this.connection = connection;
        this.channel = channel;
        this.stream = MuxedStream.of(channel);
        this.protocol = protocol;
    }

    /** The stream channel (pipeline API). */
    public Channel channel() {
        return channel;
    }

    /** The agreed protocol id. */
    public String protocol() {
        return protocol;
    }

    /** The connection the stream runs on. */
    public Connection connection() {
        return connection;
    }

    /** The remote peer. */
    public PeerId remotePeer() {
        return connection.remotePeer();
    }

    /** Whether this side opened the stream. */
    public boolean isInitiator() {
        return stream.isOutbound();
    }

    /**
     * Switches the stream to blocking use; must be called on the event loop during
     * {@link StreamHandler#initStream} (the host does it for blocking handlers and blocking opens).
     */
    void enableBlocking() {
        if (blocking == null) {
            blocking = new BlockingStreamAdapter();
            channel.config().setAutoRead(false);
            channel.pipeline().addLast("blocking-io", blocking);
        }
    }

    private BlockingStreamAdapter blocking() {
        BlockingStreamAdapter b = blocking;
        if (b == null) {
            throw new IllegalStateException("stream was not opened for blocking I/O");
        }
        return b;
    }

    /** Blocking reader of the peer's data; {@code -1} after the peer's FIN; IOException on reset. */
    public InputStream inputStream() {
        return blocking().inputStream();
    }

    /** Blocking writer; waits while the stream is not writable; {@code close()} half-closes. */
    public OutputStream outputStream() {
        return blocking().outputStream();
    }

    /** Half-closes: sends FIN after all written data. */
    public CompletableFuture<Void> closeWrite() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        stream.shutdownOutput().addListener(r -> {
            if (r.isSuccess()) {
                f.complete(null);
            } else {
                f.completeExceptionally(r.cause());
            }
        });
        return f;
    }

    /** Aborts the stream (RST). */
    public void reset() {
        stream.reset();
        discardUnread();
    }

    /** Closes the stream (FIN if not yet sent; further incoming data is discarded). */
    public void close() {
        channel.close();
        discardUnread();
    }

    /** Releases data queued for a blocking reader that will not read any more (the buffers are pooled). */
    private void discardUnread() {
        BlockingStreamAdapter b = blocking;
        if (b != null) {
            b.discardUnread();
        }
    }

    /** Half-closes and waits for it (blocking helper). */
    void closeWriteAndWait() throws IOException {
        try {
            closeWrite().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("half-close failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public String toString() {
        return "P2pStream{" + protocol + " " + channel + "}";
    }
}
