package io.layerswarm.libp2p.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.NoSuchProviderException;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CRL;
import java.security.cert.CRLException;
import java.security.cert.CertPath;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateFactorySpi;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;

/**
 * Lets the JDK's TLS stack accept libp2p certificates with an empty issuer/subject name, which
 * js-libp2p ({@code @libp2p/tls}) sends and the JDK's own X.509 parser refuses ("Empty issuer DN not
 * allowed"). The JDK's {@code SSLEngine} parses peer certificates with
 * {@code CertificateFactory.getInstance("X.509")}, so this installs, once per JVM, a provider ahead of
 * the others whose X.509 factory asks the JDK's factory first and, only when that one refuses a
 * certificate, Bouncy Castle's. Certificates the JDK accepts are therefore parsed exactly as before.
 */
final class EmptyNameTolerantX509 {

    static final String PROVIDER_NAME = "LayerSwarmLibp2pX509";
    private static final int MAX_CERTIFICATE = 64 * 1024;

    private EmptyNameTolerantX509() {
    }

    /** Installs the provider if it is not yet installed (idempotent, thread-safe). */
    static void install() {
        synchronized (Security.class) {
            if (Security.getProvider(PROVIDER_NAME) == null) {
                Security.insertProviderAt(new TolerantProvider(), 1);
            }
        }
    }

    /** Parses one DER certificate, JDK first and Bouncy Castle where the JDK refuses it. */
    static X509Certificate parse(byte[] der) throws CertificateException {
        if (der == null) {
            throw new CertificateException("certificate has no encoding");
        }
        return (X509Certificate) new Factory().engineGenerateCertificate(new ByteArrayInputStream(der));
    }

    private static final class TolerantProvider extends Provider {
        private static final long serialVersionUID = 1L;

        TolerantProvider() {
            super(PROVIDER_NAME, "1.0", "X.509 factory tolerating empty names (libp2p TLS interop)");
            putService(new Service(this, "CertificateFactory", "X.509", Factory.class.getName(), List.of(), null) {
                @Override
                public Object newInstance(Object constructorParameter) {
                    return new Factory();
                }
            });
        }
    }

    /** JDK first, Bouncy Castle as fallback for single certificates. */
    static final class Factory extends CertificateFactorySpi {
        private final CertificateFactory jdk;
        private final org.bouncycastle.jcajce.provider.asymmetric.x509.CertificateFactory bc =
                new org.bouncycastle.jcajce.provider.asymmetric.x509.CertificateFactory();

        Factory() {
            try {
                jdk = CertificateFactory.getInstance("X.509", "SUN");
            } catch (CertificateException | NoSuchProviderException e) {
                throw new IllegalStateException("JDK X.509 certificate factory missing", e);
            }
        }

        @Override
        public Certificate engineGenerateCertificate(InputStream in) throws CertificateException {
            byte[] der;
            try {
                der = in.readNBytes(MAX_CERTIFICATE + 1);
            } catch (IOException e) {
                throw new CertificateException("cannot read certificate: " + e.getMessage(), e);
            }
            if (der.length > MAX_CERTIFICATE) {
                throw new CertificateException("certificate larger than " + MAX_CERTIFICATE + " bytes");
            }
            try {
                return jdk.generateCertificate(new ByteArrayInputStream(der));
            } catch (CertificateException refused) {
                try {
                    Certificate c = bc.engineGenerateCertificate(new ByteArrayInputStream(der));
                    if (c == null) {
                        // Bouncy Castle answers an empty input with null; callers expect a certificate or a reason
                        throw new CertificateException("no certificate in " + der.length + " bytes");
                    }
                    return c;
                } catch (CertificateException | RuntimeException alsoRefused) {
                    refused.addSuppressed(alsoRefused);
                    throw refused;
                }
            }
        }

        @Override
        public Collection<? extends Certificate> engineGenerateCertificates(InputStream in) throws CertificateException {
            return jdk.generateCertificates(in);
        }

        @Override
        public CRL engineGenerateCRL(InputStream in) throws CRLException {
            return jdk.generateCRL(in);
        }

        @Override
        public Collection<? extends CRL> engineGenerateCRLs(InputStream in) throws CRLException {
            return jdk.generateCRLs(in);
        }

        @Override
        public CertPath engineGenerateCertPath(InputStream in) throws CertificateException {
            return jdk.generateCertPath(in);
        }

        @Override
        public CertPath engineGenerateCertPath(InputStream in, String encoding) throws CertificateException {
            return jdk.generateCertPath(in, encoding);
        }

        @Override
        public CertPath engineGenerateCertPath(List<? extends Certificate> certificates) throws CertificateException {
            return jdk.generateCertPath(certificates);
        }

        @Override
        public Iterator<String> engineGetCertPathEncodings() {
            return jdk.getCertPathEncodings();
        }
    }

}
