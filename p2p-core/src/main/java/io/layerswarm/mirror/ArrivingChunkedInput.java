package io.layerswarm.mirror;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

/**
 * The body of a {@linkplain BlobContent#growing() growing} blob for {@link ChunkedWriteHandler}:
 * sends what the stream has ready and, when nothing is, looks again a few milliseconds later instead
 * of blocking the event loop. A stream that fails (e.g. the blob did not match its digest) fails the
 * write, and the response is cut short.
 */
final class ArrivingChunkedInput implements ChunkedInput<ByteBuf> {
    private static final int CHUNK = 64 * 1024;
    private static final long POLL_MILLIS = 5;

    private final InputStream in;
    private final long length;
    private final ChannelHandlerContext ctx;
    private long sent;

    ArrivingChunkedInput(InputStream in, long length, ChannelHandlerContext ctx) {
        this.in = in;
        this.length = length;
        this.ctx = ctx;
    }

    @Override
    public boolean isEndOfInput() {
        return sent >= length;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    @Deprecated
    @Override
    public ByteBuf readChunk(ChannelHandlerContext ignored) throws Exception {
        return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) throws Exception {
        if (isEndOfInput()) {
            return null;
        }
        int ready = in.available();
        if (ready <= 0) {
            ctx.executor().schedule(this::resume, POLL_MILLIS, TimeUnit.MILLISECONDS);
            return null;
        }
        int n = (int) Math.min(Math.min(ready, CHUNK), length - sent);
        ByteBuf buf = allocator.heapBuffer(n);
        try {
            int read = buf.writeBytes(in, n);
            if (read <= 0) {
                throw new IOException("blob stream ended after " + sent + " of " + length + " bytes");
            }
            sent += read;
            return buf;
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    private void resume() {
        ChunkedWriteHandler writer = ctx.pipeline().get(ChunkedWriteHandler.class);
        if (writer != null) {
            writer.resumeTransfer();
        }
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return sent;
    }
}
