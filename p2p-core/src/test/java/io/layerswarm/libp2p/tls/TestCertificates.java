package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.PrivateKey;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Deliberately broken libp2p TLS certificates for negative tests. */
public final class TestCertificates {

    private interface Extension {
        void add(X509v3CertificateBuilder b, KeyPair kp) throws Exception;
    }

    private TestCertificates() {
    }

    /** Self-signed, but no libp2p extension at all. */
    public static Libp2pCertificates.CertifiedKey withoutExtension() {
        return make((b, kp) -> { });
    }

    /** The extension carries {@code claimed}'s key but a signature by another key. */
    public static Libp2pCertificates.CertifiedKey badSignature(PrivateKey claimed) {
        return make((b, kp) -> {
            byte[] data = ("libp2p-tls-handshake:" + "x").getBytes(StandardCharsets.US_ASCII);
            ASN1Encodable signedKey = new DERSequence(new ASN1Encodable[] {
                new DEROctetString(claimed.publicKey().marshal()), new DEROctetString(claimed.sign(data))});
            b.addExtension(new ASN1ObjectIdentifier(Libp2pCertificates.EXTENSION_OID), true, signedKey);
        });
    }

    /** The extension's value is arbitrary bytes. */
    static Libp2pCertificates.CertifiedKey withRawExtension(byte[] value) {
        return make((b, kp) -> b.addExtension(new ASN1ObjectIdentifier(Libp2pCertificates.EXTENSION_OID), true,
                value));
    }

    private static Libp2pCertificates.CertifiedKey make(Extension ext) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = gen.generateKeyPair();
            X500Name name = new X500Name("CN=test");
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.TEN,
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name,
                    kp.getPublic());
            ext.add(b, kp);
            return new Libp2pCertificates.CertifiedKey(kp.getPrivate(), new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
