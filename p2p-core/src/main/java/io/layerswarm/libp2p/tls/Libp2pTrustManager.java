package io.layerswarm.libp2p.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly the certificates that authenticate a libp2p peer through the libp2p extension
 * ({@link Libp2pCertificates#verify}); no CA, no host name. Which peer it was is checked after the
 * handshake against the dialled peer id.
 */
final class Libp2pTrustManager extends X509ExtendedTrustManager {

    static final Libp2pTrustManager INSTANCE = new Libp2pTrustManager();

    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    private Libp2pTrustManager() {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        Libp2pCertificates.verify(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        Libp2pCertificates.verify(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        Libp2pCertificates.verify(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        Libp2pCertificates.verify(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        Libp2pCertificates.verify(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        Libp2pCertificates.verify(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return NO_ISSUERS;
    }
}
