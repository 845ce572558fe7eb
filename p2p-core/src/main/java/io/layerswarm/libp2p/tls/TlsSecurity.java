package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.crypto.PublicKey;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libp2p TLS 1.3 security transport ({@value #PROTOCOL_ID}): Netty's {@link SslHandler} over
 * BoringSSL (netty-tcnative) where its native library loads, else over the JDK {@code SSLEngine}
 * ({@link Engine}), both sides presenting a self-signed certificate carrying the libp2p key
 * extension ({@link Libp2pCertificates}), ALPN {@value #ALPN}, AES-GCM suites first (hardware
 * accelerated on the JDK). After the handshake the pipeline carries plaintext {@code ByteBuf}s.
 * One certificate is made per instance and reused for all its connections (the spec allows both).
 */
public final class TlsSecurity {

    /** The multistream protocol id. */
    public static final String PROTOCOL_ID = "/tls/1.0.0";
    /** The ALPN protocol name libp2p uses. */
    public static final String ALPN = "libp2p";
    /** Cipher suites offered, most preferred first. */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    /**
     * Plaintext handed to BoringSSL per wrap call: it seals several 16 KiB records in one call, so fewer,
     * larger writes reach the socket (measured in BENCHMARKS.md, "libp2p throughput").
     */
    static final int OPENSSL_WRAP_DATA_SIZE = 64 * 1024;

    /** Which TLS implementation carries the connections. */
    public enum Engine {
        /** BoringSSL when its native library loads on this platform and supports TLS 1.3, else the JDK. */
        AUTO,
        /** BoringSSL through netty-tcnative (AES-GCM in native code); refused where it does not load. */
        OPENSSL,
        /** The JDK's {@code SSLEngine} (slower on JDK 17; figures in BENCHMARKS.md, "libp2p throughput"). */
        JDK
    }

    private static final Logger LOG = LoggerFactory.getLogger(TlsSecurity.class);

    private final PrivateKey identity;
    private final Engine engine;
    private final SslContext client;
    private final SslContext server;

    /** With a fresh certificate for {@code identity}, on the {@link Engine#AUTO} engine. */
    public TlsSecurity(PrivateKey identity) {
        this(identity, Engine.AUTO);
    }

    /**
     * With a fresh certificate for {@code identity}, on the given engine.
     *
     * @throws IllegalStateException for {@link Engine#OPENSSL} where BoringSSL cannot be loaded
     */
    public TlsSecurity(PrivateKey identity, Engine engine) {
        this(identity, Libp2pCertificates.generate(identity, new SecureRandom()), engine);
    }

    /** With a given certificate (tests use this to present deliberately broken ones). */
    public TlsSecurity(PrivateKey identity, Libp2pCertificates.CertifiedKey cert) {
        this(identity, cert, Engine.AUTO);
    }

    /** With a given certificate on the given engine. */
    public TlsSecurity(PrivateKey identity, Libp2pCertificates.CertifiedKey cert, Engine engine) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.engine = resolve(Objects.requireNonNull(engine, "engine"));
        EmptyNameTolerantX509.install();
        ApplicationProtocolConfig alpn = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN);
        try {
            client = configure(SslContextBuilder.forClient().keyManager(cert.key(), cert.certificate()), alpn)
                    .build();
            server = configure(SslContextBuilder.forServer(cert.key(), cert.certificate()), alpn)
                    .clientAuth(ClientAuth.REQUIRE).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot configure libp2p TLS: " + e, e);
        }
    }

    /** Whether BoringSSL is usable here for libp2p TLS (loads, speaks TLS 1.3, has ALPN). */
    public static boolean openSslAvailable() {
        return OpenSsl.isAvailable() && SslProvider.isTlsv13Supported(SslProvider.OPENSSL)
                && SslProvider.isAlpnSupported(SslProvider.OPENSSL);
    }

    private static Engine resolve(Engine wanted) {
        boolean usable = openSslAvailable();
        if (wanted == Engine.OPENSSL && !usable) {
            throw new IllegalStateException("BoringSSL (netty-tcnative) is not usable here: "
                    + (OpenSsl.isAvailable() ? "no TLS 1.3 or ALPN" : OpenSsl.unavailabilityCause()));
        }
        Engine chosen = wanted == Engine.AUTO ? (usable ? Engine.OPENSSL : Engine.JDK) : wanted;
        if (wanted == Engine.AUTO && !usable) {
            LOG.info("event=tls_engine engine=JDK reason=\"{}\"", OpenSsl.unavailabilityCause());
        }
        return chosen;
    }

    /**
     * The trust rule of libp2p TLS for transports that run TLS themselves (QUIC): a certificate is trusted
     * exactly when its libp2p extension proves an identity key; which peer that is, {@link #authenticate} checks.
     */
    public static X509ExtendedTrustManager trustManager() {
        EmptyNameTolerantX509.install();
        return Libp2pTrustManager.INSTANCE;
    }

    /**
     * The peer a completed libp2p TLS handshake authenticated: the identity key proven by the remote
     * certificate's libp2p extension, checked against the dialled peer.
     *
     * @param expectedRemote the dialled peer, or null (inbound)
     * @throws TlsException if the remote presented no valid libp2p certificate
     * @throws PeerIdMismatchException if it is another peer than {@code expectedRemote}
     */
    public static TlsSession authenticate(SSLSession ssl, PeerId expectedRemote) {
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

    /** The engine in use ({@link Engine#OPENSSL} or {@link Engine#JDK}, never AUTO). */
    public Engine engine() {
        return engine;
    }

    private SslContextBuilder configure(SslContextBuilder b, ApplicationProtocolConfig alpn) {
        return b.sslProvider(engine == Engine.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK).protocols("TLSv1.3")
                .ciphers(CIPHER_SUITES, IdentityCipherSuiteFilter.INSTANCE)
                .trustManager(Libp2pTrustManager.INSTANCE).applicationProtocolConfig(alpn);
    }

    /** The identity key. */
    public PrivateKey identity() {
        return identity;
    }

    /**
     * Installs the TLS handler and handshake watcher at the end of {@code pipeline}.
     *
     * @param initiator whether this side dialled (TLS client)
     * @param expectedRemote the dialled peer (mismatch fails with
     *        {@link io.layerswarm.libp2p.crypto.PeerIdMismatchException}), or null
     * @param onSecured run on the event loop once secured, before any later byte is passed on (may be null)
     */
    public Future<TlsSession> install(ChannelPipeline pipeline, boolean initiator, PeerId expectedRemote,
            Consumer<TlsSession> onSecured) {
        Promise<TlsSession> promise = pipeline.channel().eventLoop().newPromise();
        // Watcher first so it sees the completion event however fast the handshake goes.
        pipeline.addLast("tls-handshake", new TlsHandshakeHandler(expectedRemote, onSecured, promise));
        pipeline.addBefore("tls-handshake", "tls", handler(pipeline, initiator));
        return promise;
    }

    /**
     * Installs right after {@code anchor} (for a multistream
     * {@link io.layerswarm.libp2p.multistream.ProtocolInstaller}).
     */
    public Future<TlsSession> installAfter(ChannelHandlerContext anchor, boolean initiator, PeerId expectedRemote,
            Consumer<TlsSession> onSecured, Promise<TlsSession> promise) {
        ChannelPipeline p = anchor.pipeline();
        p.addAfter(anchor.name(), "tls-handshake", new TlsHandshakeHandler(expectedRemote, onSecured, promise));
        p.addAfter(anchor.name(), "tls", handler(p, initiator));
        return promise;
    }

    private SslHandler handler(ChannelPipeline pipeline, boolean initiator) {
        // No peer host: no SNI and no host name check, as the spec requires.
        SslHandler h = (initiator ? client : server).newHandler(pipeline.channel().alloc());
        if (engine == Engine.OPENSSL) {
            h.setWrapDataSize(OPENSSL_WRAP_DATA_SIZE);
        } else {
            h.setCumulator(HeapCumulator.INSTANCE);
        }
        return h;
    }
}
