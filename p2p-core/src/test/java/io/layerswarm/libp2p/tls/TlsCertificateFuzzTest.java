package io.layerswarm.libp2p.tls;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.testing.DecoderContract;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Fuzzes the libp2p TLS certificate a peer presents: whole DER certificates (parsed with the empty-name
 * tolerant factory, then verified) and, inside correctly self-signed certificates, the signed-key
 * extension itself. {@link Libp2pCertificates#verify} returns the identity key or throws
 * {@link CertificateException}.
 */
class TlsCertificateFuzzTest {
    /** The certificate key is fixed (Ed25519 seed 0x07...) so that seed extensions can carry valid signatures. */
    private static final KeyPair CERT_KEY = certKey();
    private static final DecoderContract CONTRACT = DecoderContract.allowing(8L << 20, CertificateException.class);

    @FuzzTest
    void certificate(byte[] input) {
        CONTRACT.check(() -> Libp2pCertificates.verify(new X509Certificate[] {EmptyNameTolerantX509.parse(input)}));
    }

    /** First byte: bit 0 marks the extension critical; the rest is the extension value (a DER SignedKey). */
    @FuzzTest
    void signedKeyExtension(byte[] input) throws Exception {
        boolean critical = input.length > 0 && (input[0] & 1) == 1;
        byte[] value = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        X509Certificate cert = selfSigned(critical, value);
        CONTRACT.check(() -> Libp2pCertificates.verify(new X509Certificate[] {cert}));
    }

    private static X509Certificate selfSigned(boolean critical, byte[] extensionValue) throws Exception {
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=fuzz");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name,
                CERT_KEY.getPublic());
        b.addExtension(new ASN1ObjectIdentifier(Libp2pCertificates.EXTENSION_OID), critical, extensionValue);
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("Ed25519").build(CERT_KEY.getPrivate())));
    }

    private static KeyPair certKey() {
        try {
            byte[] seed = new byte[32];
            Arrays.fill(seed, (byte) 7);
            Ed25519PrivateKeyParameters priv = new Ed25519PrivateKeyParameters(seed, 0);
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            return new KeyPair(
                    kf.generatePublic(new X509EncodedKeySpec(
                            SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(priv.generatePublicKey()).getEncoded())),
                    kf.generatePrivate(new PKCS8EncodedKeySpec(PrivateKeyInfoFactory.createPrivateKeyInfo(priv).getEncoded())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
