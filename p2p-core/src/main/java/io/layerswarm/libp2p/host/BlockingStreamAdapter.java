package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;

/**
 * Bridges a stream channel to blocking {@link InputStream}/{@link OutputStream}. The channel runs with
 * {@code autoRead=false}; more data is requested only when the local queue is drained, so a slow
 * reader stops the Yamux window and thereby the peer.
 */
final class BlockingStreamAdapter extends ChannelInboundHandlerAdapter {
    private static final int WRITE_CHUNK = 64 * 1024;

    private final Object lock = new Object();
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private volatile Channel channel;
    private boolean eof;
    private boolean closed;
    private Throwable error;
    private boolean readRequested;
    private ChannelFuture lastWrite;
    /** Bytes written to the channel whose write has not completed yet (counted where the stream allows write-ahead). */
    private long unfinished;
    private final InputStream in = new In();
    private final OutputStream out = new Out();

    InputStream inputStream() {
        return in;
    }

    OutputStream outputStream() {
        return out;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        requestRead();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        synchronized (lock) {
            readRequested = false;
            if (closed) {
                ((ByteBuf) msg).release();
                return;
            }
            queue.add((ByteBuf) msg);
            lock.notifyAll();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            synchronized (lock) {
                eof = true;
                lock.notifyAll();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        synchronized (lock) {
            if (error == null) {
                error = cause;
            }
            lock.notifyAll();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        synchronized (lock) {
            lock.notifyAll();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // The stream closes itself once both sides finished; queued data stays readable until then.
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
    }

    /** Marks the reader gone and releases what it left unread; later data is released on arrival. */
    void discardUnread() {
        synchronized (lock) {
            closed = true;
            ByteBuf b;
            while ((b = queue.poll()) != null) {
                b.release();
            }
            lock.notifyAll();
        }
    }

    private void requestRead() {
        // Called with or without the lock; Channel.read() hops to the event loop.
        Channel ch = channel;
        if (ch != null) {
            ch.read();
        }
    }

    /** The stream's {@link MuxedStream#writeAhead()}, 0 for a channel that is not a muxed stream. */
    private static int writeAhead(Channel ch) {
        MuxedStream s = ch instanceof MuxedStream m ? m : ch.attr(MuxedStream.KEY).get();
        return s == null ? 0 : s.writeAhead();
    }

    private static void checkNotEventLoop(Channel ch) {
        if (ch != null && ch.eventLoop().inEventLoop()) {
            throw new IllegalStateException("blocking stream I/O on the event loop would deadlock");
        }
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            checkNotEventLoop(channel);
            boolean askMore = false;
            int n;
            synchronized (lock) {
                while (queue.isEmpty()) {
                    if (error != null) {
                        throw new IOException("stream failed: " + error.getMessage(), error);
                    }
                    if (eof) {
                        return -1;
                    }
                    if (closed) {
                        throw new IOException("stream closed before the peer finished");
                    }
                    if (!readRequested) {
                        readRequested = true;
                        requestRead();
                    }
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException();
                    }
                }
                ByteBuf head = queue.peek();
                n = Math.min(len, head.readableBytes());
                head.readBytes(b, off, n);
                if (!head.isReadable()) {
                    queue.poll().release();
                    if (queue.isEmpty() && !readRequested && !eof) {
                        readRequested = true;
                        askMore = true;
                    }
                }
            }
            if (askMore) {
                requestRead();
            }
            return n;
        }

        @Override
        public int available() {
            synchronized (lock) {
                return queue.isEmpty() ? 0 : queue.peek().readableBytes();
            }
        }

        @Override
        public void close() {
            discardUnread();
        }
    }

    private final class Out extends OutputStream {
        private boolean finished;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Channel ch = channel;
            checkNotEventLoop(ch);
            if (finished) {
                throw new IOException("stream output already closed");
            }
            int ahead = writeAhead(ch);
            while (len > 0) {
                awaitWritable(ch, ahead);
                int n = Math.min(len, WRITE_CHUNK);
                if (ahead > 0) {
                    synchronized (lock) {
                        unfinished += n;
                    }
                }
                ChannelFuture f = ch.writeAndFlush(Unpooled.copiedBuffer(b, off, n));
                if (ahead > 0) {
                    f.addListener(x -> {
                        synchronized (lock) {
                            unfinished -= n;
                            lock.notifyAll();
                        }
                    });
                }
                synchronized (lock) {
                    lastWrite = f;
                }
                off += n;
                len -= n;
            }
        }

        /**
         * Waits until the stream takes more: with {@code ahead} 0 until the channel is writable, otherwise until
         * less than {@code ahead} bytes of this stream's writes are still unfinished (not yet taken by the
         * transport).
         */
        private void awaitWritable(Channel ch, int ahead) throws IOException {
            long since = System.nanoTime();
            synchronized (lock) {
                while (ahead > 0 ? unfinished >= ahead || !ch.isActive() : !ch.isWritable()) {
                    if (!ch.isActive()) {
                        throw new IOException("stream closed", error);
                    }
                    checkFailed();
                    if (System.nanoTime() - since > StreamStalledException.STALL_LIMIT.toNanos()) {
                        throw new StreamStalledException("peer read nothing for " + StreamStalledException.STALL_LIMIT
                                .toSeconds() + " s");
                    }
                    try {
                        lock.wait(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException();
                    }
                }
                checkFailed();
            }
        }

        private void checkFailed() throws IOException {
            ChannelFuture f = lastWrite;
            if (f != null && f.isDone() && !f.isSuccess()) {
                throw new IOException("stream write failed: " + f.cause(), f.cause());
            }
        }

        @Override
        public void flush() {
            // Every write is flushed already.
        }

        @Override
        public void close() throws IOException {
            if (finished) {
                return;
            }
            finished = true;
            Channel ch = channel;
            checkNotEventLoop(ch);
            ChannelFuture f = MuxedStream.of(ch).shutdownOutput();
            f.awaitUninterruptibly();
            if (!f.isSuccess()) {
                throw new IOException("stream half-close failed: " + f.cause(), f.cause());
            }
        }
    }
}
