package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.crypto.PublicKey;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Promise;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

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
            session = session(ctx.pipeline().get(SslHandler.class).engine().getSession());
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

    private TlsSession session(SSLSession ssl) {
        Certificate[] certs;
        try {
            certs = ssl.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new TlsException("TLS: remote presented no certificate", e);
        }
        X509Certificate[] chain = new X509Certificate[certs.length];
        for (int i = 0; i < certs.length; i++) {
            if (!(certs[i] instanceof X509Certificate x)) {
                throw new TlsException("TLS: remote certificate is not X.509");
            }
            chain[i] = x;
        }
        PublicKey key;
        try {
            key = Libp2pCertificates.verify(chain);
        } catch (CertificateException e) {
            throw new TlsException(e.getMessage(), e);
        }
        PeerId remote = PeerId.fromPublicKey(key);
        if (expectedRemote != null && !expectedRemote.equals(remote)) {
            throw new PeerIdMismatchException("TLS", expectedRemote, remote);
        }
        return new TlsSession(remote, key, ssl.getCipherSuite());
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
