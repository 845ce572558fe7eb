package io.layerswarm.libp2p.pnet;

import io.layerswarm.libp2p.upgrade.UpgradeStepHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.security.SecureRandom;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * libp2p private network connection protector (pnet PSK v1). Each side first sends a random
 * 24-byte nonce in the clear; afterwards every byte it sends is XORed with the XSalsa20 key stream
 * of (PSK, own nonce), and what it receives is decrypted with (PSK, peer nonce). It must be the first
 * handler on a raw connection, before multistream-select. There is no authentication here: with a
 * wrong key the peer just sees noise, and the next layer (multistream) fails and closes.
 */
public final class PnetProtector extends UpgradeStepHandler {

    /** Nonce length. */
    public static final int NONCE_LENGTH = 24;

    private final SwarmKey key;
    private final SecureRandom random;
    private XSalsa20Engine out;
    private XSalsa20Engine in;
    private final byte[] remoteNonce = new byte[NONCE_LENGTH];
    private int remoteNonceRead;

    /** A protector for {@code key}. */
    public PnetProtector(SwarmKey key) {
        this(key, new SecureRandom());
    }

    /** With a given randomness source. */
    public PnetProtector(SwarmKey key, SecureRandom random) {
        this.key = key;
        this.random = random;
    }

    @Override
    protected void onActive(ChannelHandlerContext ctx) {
        byte[] nonce = new byte[NONCE_LENGTH];
        random.nextBytes(nonce);
        out = engine(nonce);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(nonce));
    }

    private XSalsa20Engine engine(byte[] nonce) {
        XSalsa20Engine e = new XSalsa20Engine();
        e.init(true, new ParametersWithIV(new KeyParameter(key.bytes()), nonce));
        return e;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (in == null) {
                int n = Math.min(NONCE_LENGTH - remoteNonceRead, buf.readableBytes());
                buf.readBytes(remoteNonce, remoteNonceRead, n);
                remoteNonceRead += n;
                if (remoteNonceRead < NONCE_LENGTH) {
                    return;
                }
                in = engine(remoteNonce);
            }
            if (buf.isReadable()) {
                ctx.fireChannelRead(xor(in, buf));
            }
        } finally {
            buf.release();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            promise.setFailure(new IllegalArgumentException("pnet carries ByteBuf only"));
            return;
        }
        if (out == null) {
            buf.release();
            promise.setFailure(new IllegalStateException("pnet: write before the connection is active"));
            return;
        }
        try {
            ctx.write(xor(out, buf), promise);
        } finally {
            buf.release();
        }
    }

    private static ByteBuf xor(XSalsa20Engine engine, ByteBuf buf) {
        int len = buf.readableBytes();
        byte[] data = new byte[len];
        buf.readBytes(data);
        engine.processBytes(data, 0, len, data, 0);
        return Unpooled.wrappedBuffer(data);
    }
}
