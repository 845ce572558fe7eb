package io.layerswarm.libp2p.noise;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseCombiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Noise transport phase: decrypts each inbound frame and encrypts outbound bytes, chunked so
 * each ciphertext (plaintext + 16-byte tag) fits a 65535-byte frame. A frame that fails
 * authentication closes the connection: after a MAC failure the stream can no longer be trusted.
 */
public final class NoiseTransportHandler extends ChannelDuplexHandler {

    /** Largest plaintext per frame. */
    public static final int MAX_PLAINTEXT = HandshakeState.MAX_MESSAGE_LEN - CipherState.TAG_LEN;

    private static final Logger LOG = LoggerFactory.getLogger(NoiseTransportHandler.class);

    private final CipherState sender;
    private final CipherState receiver;
    private boolean broken;

    NoiseTransportHandler(CipherState sender, CipherState receiver) {
        this.sender = sender;
        this.receiver = receiver;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (broken) {
            frame.release();
            return;
        }
        ByteBuf plain = null;
        try {
            int len = frame.readableBytes();
            int plainLen = Math.max(0, len - CipherState.TAG_LEN);
            plain = ctx.alloc().heapBuffer(Math.max(plainLen, 1));
            int n = receiver.decrypt(frame.nioBuffer(frame.readerIndex(), len), plain.nioBuffer(0, plain.capacity()));
            plain.writerIndex(n);
        } catch (NoiseException e) {
            if (plain != null) {
                plain.release();
            }
            broken = true;
            LOG.warn("event=noise_frame_rejected channel={} reason=\"{}\"", ctx.channel().id(), e.getMessage());
            ctx.fireExceptionCaught(e);
            ctx.close();
            return;
        } finally {
            frame.release();
        }
        if (plain.isReadable()) {
            ctx.fireChannelRead(plain);
        } else {
            plain.release();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            promise.setFailure(new IllegalArgumentException("Noise transport carries ByteBuf only, got "
                    + msg.getClass().getName()));
            return;
        }
        try {
            if (broken) {
                promise.setFailure(new NoiseException("Noise session is broken"));
                return;
            }
            if (!buf.isReadable()) {
                ctx.write(Unpooled.EMPTY_BUFFER, promise);
                return;
            }
            if (buf.readableBytes() <= MAX_PLAINTEXT) {
                ctx.write(encrypt(ctx, buf, buf.readableBytes()), promise);
                return;
            }
            PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
            while (buf.isReadable()) {
                combiner.add(ctx.write(encrypt(ctx, buf, Math.min(MAX_PLAINTEXT, buf.readableBytes()))));
            }
            combiner.finish(promise);
        } catch (NoiseException e) {
            broken = true;
            promise.setFailure(e);
            ctx.close();
        } finally {
            buf.release();
        }
    }

    private ByteBuf encrypt(ChannelHandlerContext ctx, ByteBuf buf, int len) {
        ByteBuf out = ctx.alloc().heapBuffer(len + CipherState.TAG_LEN);
        try {
            int n = sender.encrypt(buf.nioBuffer(buf.readerIndex(), len), out.nioBuffer(0, len + CipherState.TAG_LEN));
            out.writerIndex(n);
            buf.skipBytes(len);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }
}
