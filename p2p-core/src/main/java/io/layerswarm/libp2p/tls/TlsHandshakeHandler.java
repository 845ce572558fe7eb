package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Promise;
import java.util.function.Consumer;

/**
 * Waits for the {@link SslHandler} handshake, turns the remote certificate into the remote peer id,
 * checks it against the dialled one, then removes itself; fails the promise and closes on any error.
 */
final class TlsHandshakeHandler extends ChannelInboundHandlerAdapter {

    private final PeerId expectedRemote;
    private final Consumer<TlsSession> onSecured;
    private final Promise<TlsSession> promise;

    TlsHandshakeHandler(PeerId expectedRemote, Consumer<TlsSession> onSecured, Promise<TlsSession> promise) {
        this.expectedRemote = expectedRemote;
        this.onSecured = onSecured;
        this.promise = promise;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!(evt instanceof SslHandshakeCompletionEvent done)) {
            super.userEventTriggered(ctx, evt);
            return;
        }
        if (!done.isSuccess()) {
            fail(ctx, new TlsException("TLS handshake failed: " + done.cause(), done.cause()));
            return;
        }
        TlsSession session;
        try {
            session = TlsSecurity.authenticate(ctx.pipeline().get(SslHandler.class).engine().getSession(), expectedRemote);
        } catch (TlsException | PeerIdMismatchException e) {
            // Failed as is: escaping to exceptionCaught would wrap it and hide its type.
            fail(ctx, e);
            return;
        }
        ctx.pipeline().remove(this);
        if (onSecured != null) {
            try {
                onSecured.accept(session);
            } catch (RuntimeException e) {
                fail(ctx, e);
                return;
            }
        }
        promise.trySuccess(session);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, new TlsException("TLS handshake failed: " + cause, cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        promise.tryFailure(new TlsException("TLS: connection closed during the handshake"));
        super.channelInactive(ctx);
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        promise.tryFailure(cause);
        ctx.close();
    }
}
