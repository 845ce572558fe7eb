package io.layerswarm.libp2p.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Libp2pCertificatesTest {

    @Test
    void generatedCertificateProvesTheIdentityKey() throws Exception {
        PrivateKey id = Ed25519PrivateKey.generate();
        X509Certificate cert = Libp2pCertificates.generate(id, new SecureRandom()).certificate();
        assertTrue(cert.getCriticalExtensionOIDs().contains(Libp2pCertificates.EXTENSION_OID));
        assertArrayEquals(id.publicKey().marshal(), Libp2pCertificates.verify(new X509Certificate[] {cert}).marshal());
    }

    @Test
    void certificateWithoutExtensionIsRejected() {
        X509Certificate cert = TestCertificates.withoutExtension().certificate();
        CertificateException e = assertThrows(CertificateException.class,
                () -> Libp2pCertificates.verify(new X509Certificate[] {cert}));
        assertTrue(e.getMessage().contains("lacks"), e.getMessage());
    }

    @Test
    void signatureBySomeoneElseIsRejected() {
        X509Certificate cert = TestCertificates.badSignature(Ed25519PrivateKey.generate()).certificate();
        CertificateException e = assertThrows(CertificateException.class,
                () -> Libp2pCertificates.verify(new X509Certificate[] {cert}));
        assertTrue(e.getMessage().contains("signature"), e.getMessage());
    }

    @Test
    void garbageExtensionValuesAreRejectedClearly() {
        Random rnd = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] junk = new byte[rnd.nextInt(300)];
            rnd.nextBytes(junk);
            X509Certificate cert = TestCertificates.withRawExtension(junk).certificate();
            assertThrows(CertificateException.class, () -> Libp2pCertificates.verify(new X509Certificate[] {cert}));
        }
    }

    @Test
    void chainsOfOtherLengthsAreRejected() {
        X509Certificate cert = Libp2pCertificates.generate(Ed25519PrivateKey.generate(), new SecureRandom()).certificate();
        assertThrows(CertificateException.class, () -> Libp2pCertificates.verify(new X509Certificate[0]));
        assertThrows(CertificateException.class, () -> Libp2pCertificates.verify(null));
        assertThrows(CertificateException.class, () -> Libp2pCertificates.verify(new X509Certificate[] {cert, cert}));
    }
}
