package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.Keys;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.crypto.PublicKey;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The libp2p TLS certificate (specs/tls/tls.md): a self-signed X.509 certificate whose critical
 * extension {@value #EXTENSION_OID} holds {@code SignedKey ::= SEQUENCE { publicKey OCTET STRING,
 * signature OCTET STRING }}, the host's libp2p public key and its signature over
 * {@code "libp2p-tls-handshake:" || SubjectPublicKeyInfo}. The extension, not any CA, authenticates
 * the peer.
 */
public final class Libp2pCertificates {

    /** The libp2p Public Key Extension OID. */
    public static final String EXTENSION_OID = "1.3.6.1.4.1.53594.1.1";
    /** Prefix of the signed data. */
    public static final String SIGNATURE_PREFIX = "libp2p-tls-handshake:";

    /** A generated certificate and its key. */
    public record CertifiedKey(java.security.PrivateKey key, X509Certificate certificate) {
    }

    private Libp2pCertificates() {
    }

    /** A fresh ECDSA P-256 certificate key, certified by {@code identity}. */
    public static CertifiedKey generate(PrivateKey identity, SecureRandom random) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair kp = gen.generateKeyPair();
            byte[] spki = kp.getPublic().getEncoded();
            byte[] signature = identity.sign(signedData(spki));
            ASN1Encodable signedKey = new DERSequence(new ASN1Encodable[] {
                new DEROctetString(identity.publicKey().marshal()), new DEROctetString(signature)});
            Instant now = Instant.now();
            X500Name name = new X500Name("SERIALNUMBER=" + new BigInteger(64, random));
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, random).add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365L * 100))),
                    name, kp.getPublic());
            b.addExtension(new ASN1ObjectIdentifier(EXTENSION_OID), true, signedKey);
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
            return new CertifiedKey(kp.getPrivate(), cert);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot create libp2p TLS certificate: " + e, e);
        }
    }

    /**
     * Verifies a presented chain as the spec demands — exactly one self-signed certificate, valid
     * now, no unknown critical extension, a libp2p extension whose key signed this certificate's
     * public key — and returns the libp2p identity key it proves.
     *
     * @throws CertificateException with the reason otherwise
     */
    public static PublicKey verify(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length != 1) {
            throw new CertificateException("libp2p TLS: expected exactly one certificate, got "
                    + (chain == null ? 0 : chain.length));
        }
        // Parse the DER ourselves: the BoringSSL engine hands over lazily parsed certificates whose
        // parser is the JDK's, which refuses the empty names js-libp2p uses.
        X509Certificate cert = EmptyNameTolerantX509.parse(chain[0].getEncoded());
        try {
            return verifyParsed(cert);
        } catch (RuntimeException e) {
            // Bouncy Castle parses lazily: a malformed field (e.g. a validity date) surfaces as an unchecked
            // exception only when read. The peer sent a broken certificate; say so like any other rejection.
            throw new CertificateException("libp2p TLS: malformed certificate: " + e.getMessage(), e);
        }
    }

    private static PublicKey verifyParsed(X509Certificate cert) throws CertificateException {
        cert.checkValidity();
        try {
            cert.verify(cert.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new CertificateException("libp2p TLS: certificate is not correctly self-signed: " + e.getMessage(), e);
        }
        Set<String> critical = new HashSet<>();
        if (cert.getCriticalExtensionOIDs() != null) {
            critical.addAll(cert.getCriticalExtensionOIDs());
        }
        critical.remove(EXTENSION_OID);
        if (!critical.isEmpty()) {
            throw new CertificateException("libp2p TLS: unknown critical extensions " + critical);
        }
        byte[] wrapped = cert.getExtensionValue(EXTENSION_OID);
        if (wrapped == null) {
            throw new CertificateException("libp2p TLS: certificate lacks the libp2p public key extension "
                    + EXTENSION_OID);
        }
        byte[] keyBytes;
        byte[] signature;
        try {
            ASN1Primitive value = ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(wrapped).getOctets());
            ASN1Sequence seq = value == null ? null : ASN1Sequence.getInstance(value);
            if (seq == null || seq.size() != 2) {
                throw new CertificateException("libp2p TLS: SignedKey must be a SEQUENCE of 2 OCTET STRINGs");
            }
            keyBytes = ASN1OctetString.getInstance(seq.getObjectAt(0)).getOctets();
            signature = ASN1OctetString.getInstance(seq.getObjectAt(1)).getOctets();
        } catch (IOException | IllegalArgumentException e) {
            throw new CertificateException("libp2p TLS: malformed SignedKey extension: " + e.getMessage(), e);
        }
        PublicKey identity;
        try {
            identity = Keys.unmarshalPublicKey(keyBytes);
        } catch (IllegalArgumentException e) {
            throw new CertificateException("libp2p TLS: bad identity key in extension: " + e.getMessage(), e);
        }
        if (!identity.verify(signedData(cert.getPublicKey().getEncoded()), signature)) {
            throw new CertificateException("libp2p TLS: extension signature does not match the certificate key");
        }
        return identity;
    }

    private static byte[] signedData(byte[] spki) {
        byte[] prefix = SIGNATURE_PREFIX.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[prefix.length + spki.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(spki, 0, out, prefix.length, spki.length);
        return out;
    }
}
