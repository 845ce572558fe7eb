package io.layerswarm.libp2p.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Random;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** Certificates with empty names, as js-libp2p makes them, and garbage, through the installed factory. */
class EmptyNameTolerantX509Test {

    /** A libp2p certificate like js-libp2p's: empty issuer and subject. */
    private static byte[] emptyNameCertificate(Ed25519PrivateKey identity) throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = gen.generateKeyPair();
        byte[] prefix = Libp2pCertificates.SIGNATURE_PREFIX.getBytes(StandardCharsets.US_ASCII);
        byte[] spki = kp.getPublic().getEncoded();
        byte[] signed = new byte[prefix.length + spki.length];
        System.arraycopy(prefix, 0, signed, 0, prefix.length);
        System.arraycopy(spki, 0, signed, prefix.length, spki.length);
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                BigInteger.valueOf(77), Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
                new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), kp.getPublic());
        b.addExtension(new ASN1ObjectIdentifier(Libp2pCertificates.EXTENSION_OID), true, new DERSequence(
                new ASN1Encodable[] {new DEROctetString(identity.publicKey().marshal()),
                    new DEROctetString(identity.sign(signed))}));
        return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())).getEncoded();
    }

    @Test
    void jdkRefusesEmptyNamesButTheInstalledFactoryAcceptsThem() throws Exception {
        Ed25519PrivateKey id = Ed25519PrivateKey.generate();
        byte[] der = emptyNameCertificate(id);
        assertThrows(CertificateException.class,
                () -> CertificateFactory.getInstance("X.509", "SUN").generateCertificate(new ByteArrayInputStream(der)));
        EmptyNameTolerantX509.install();
        EmptyNameTolerantX509.install(); // idempotent
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        assertEquals(EmptyNameTolerantX509.PROVIDER_NAME, cf.getProvider().getName());
        X509Certificate cert = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der));
        assertArrayEquals(id.publicKey().marshal(), Libp2pCertificates.verify(new X509Certificate[] {cert}).marshal());
    }

    @Test
    void garbageTruncatedAndOversizedInputFailClearly() throws Exception {
        EmptyNameTolerantX509.Factory f = new EmptyNameTolerantX509.Factory();
        byte[] der = emptyNameCertificate(Ed25519PrivateKey.generate());
        Random rnd = new Random(5);
        for (int i = 0; i < 100; i++) {
            byte[] junk = new byte[rnd.nextInt(600)];
            rnd.nextBytes(junk);
            assertThrows(CertificateException.class, () -> f.engineGenerateCertificate(new ByteArrayInputStream(junk)));
        }
        for (int cut = 1; cut < der.length; cut += 17) {
            byte[] truncated = java.util.Arrays.copyOf(der, cut);
            assertThrows(CertificateException.class,
                    () -> f.engineGenerateCertificate(new ByteArrayInputStream(truncated)));
        }
        byte[] huge = new byte[200_000];
        CertificateException e = assertThrows(CertificateException.class,
                () -> f.engineGenerateCertificate(new ByteArrayInputStream(huge)));
        assertEquals("certificate larger than 65536 bytes", e.getMessage());
    }
}
