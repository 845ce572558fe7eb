package io.layerswarm.libp2p.noise;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.upgrade.UpgradeStepHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the libp2p Noise XX handshake over framed messages (a {@link NoiseFrameDecoder} /
 * {@link NoiseFrameEncoder} pair sits before it), authenticates the remote identity, checks it
 * against the dialled peer id when one is given, then replaces itself with a
 * {@link NoiseTransportHandler}. Outbound writes before completion are refused: nothing may leave
 * unencrypted. Any failure fails the promise and closes the channel.
 */
final class NoiseHandshakeHandler extends UpgradeStepHandler {

    private static final Logger LOG = LoggerFactory.getLogger(NoiseHandshakeHandler.class);
    private static final byte[] PROLOGUE = new byte[0];

    private final boolean initiator;
    private final PrivateKey identity;
    private final X25519KeyPair staticKey;
    private final List<String> streamMuxers;
    private final PeerId expectedRemote;
    private final Duration timeout;
    private final Consumer<NoiseSession> onSecured;
    private final Promise<NoiseSession> result;
    private final HandshakeState hs;
    private HandshakePayloads.Verified remote;
    private ScheduledFuture<?> timer;

    NoiseHandshakeHandler(boolean initiator, PrivateKey identity, X25519KeyPair staticKey, List<String> streamMuxers,
            PeerId expectedRemote, Duration timeout, SecureRandom random, Consumer<NoiseSession> onSecured,
            Promise<NoiseSession> result) {
        this.initiator = initiator;
        this.identity = identity;
        this.staticKey = staticKey;
        this.streamMuxers = List.copyOf(streamMuxers);
        this.expectedRemote = expectedRemote;
        this.timeout = timeout;
        this.onSecured = onSecured;
        this.result = result;
        this.hs = new HandshakeState(initiator, PROLOGUE, staticKey, null, random);
    }

    @Override
    protected void onActive(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> fail(ctx, new NoiseException("Noise handshake timed out after "
                + timeout.toMillis() + " ms")), timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (initiator) {
            send(ctx, hs.writeMessage(new byte[0])); // -> e (libp2p sends no payload in message 1)
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (result.isDone()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        byte[] message;
        try {
            ByteBuf frame = (ByteBuf) msg;
            message = new byte[frame.readableBytes()];
            frame.readBytes(message);
        } finally {
            ReferenceCountUtil.release(msg);
        }
        try {
            byte[] payload = hs.readMessage(message);
            if (initiator) {
                // <- e, ee, s, es: the responder's identity arrives here
                remote = authenticate(payload);
                send(ctx, hs.writeMessage(localPayload()));
            } else if (!hs.isComplete()) {
                send(ctx, hs.writeMessage(localPayload()));
            } else {
                remote = authenticate(payload);
            }
            if (hs.isComplete()) {
                complete(ctx);
            }
        } catch (RuntimeException e) {
            fail(ctx, e);
        }
    }

    private byte[] localPayload() {
        return HandshakePayloads.encode(identity, staticKey.publicKey(), streamMuxers);
    }

    private HandshakePayloads.Verified authenticate(byte[] payload) {
        HandshakePayloads.Verified v = HandshakePayloads.verify(payload, hs.remoteStaticKey());
        if (expectedRemote != null && !expectedRemote.equals(v.peerId())) {
            throw new PeerIdMismatchException("Noise", expectedRemote, v.peerId());
        }
        return v;
    }

    private void send(ChannelHandlerContext ctx, byte[] message) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(message)).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ctx, new NoiseException("Noise: sending handshake message failed: " + f.cause(), f.cause()));
            }
        });
    }

    private void complete(ChannelHandlerContext ctx) {
        cancelTimer();
        CipherState[] ciphers = hs.split();
        NoiseSession session = new NoiseSession(remote.peerId(), remote.identityKey(), remote.streamMuxers(),
                hs.handshakeHash());
        ctx.pipeline().replace(this, ctx.name(), new NoiseTransportHandler(ciphers[0], ciphers[1]));
        LOG.debug("event=noise_secured role={} remote={} channel={}", initiator ? "initiator" : "responder",
                session.remotePeerId(), ctx.channel().id());
        if (onSecured != null) {
            try {
                onSecured.accept(session);
            } catch (RuntimeException e) {
                result.tryFailure(e);
                ctx.close();
                return;
            }
        }
        result.trySuccess(session);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // Our own handshake messages are written from this context and never pass through here.
        ReferenceCountUtil.release(msg);
        promise.setFailure(new IllegalStateException("write before the Noise handshake completed"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause instanceof NoiseException ? cause
                : new NoiseException("Noise handshake failed: " + cause.getMessage(), cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new NoiseException("Noise: connection closed during the handshake"));
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        cancelTimer();
        if (result.tryFailure(cause)) {
            LOG.info("event=noise_handshake_failed role={} channel={} remote_addr={} reason=\"{}\"",
                    initiator ? "initiator" : "responder", ctx.channel().id(), ctx.channel().remoteAddress(),
                    cause.getMessage());
            ctx.close();
        }
    }
}
