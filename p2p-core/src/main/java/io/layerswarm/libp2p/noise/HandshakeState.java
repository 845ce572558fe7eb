package io.layerswarm.libp2p.noise;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Noise HandshakeState (spec section 5.3) for the one pattern libp2p uses,
 * {@code Noise_XX_25519_ChaChaPoly_SHA256}:
 * <pre>
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 * </pre>
 * Call {@link #writeMessage}/{@link #readMessage} in turn; after the third message
 * {@link #isComplete()} is true and {@link #split()} yields the transport ciphers. Any failure
 * poisons the state: further calls throw.
 */
public final class HandshakeState {

    /** The full Noise protocol name. */
    public static final String PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";
    /** Largest Noise message. */
    public static final int MAX_MESSAGE_LEN = 65535;

    private final boolean initiator;
    private final SymmetricState ss;
    private final X25519KeyPair s;
    private final SecureRandom random;
    private X25519KeyPair e;
    private byte[] rs;
    private byte[] re;
    private int messageIndex;
    private boolean failed;
    private boolean split;

    /**
     * @param initiator whether this side sends the first message
     * @param prologue data both sides must agree on (libp2p uses none)
     * @param staticKey this side's static DH key
     * @param ephemeral a fixed ephemeral key (test vectors only) or null to generate one
     * @param random randomness for the ephemeral key
     */
    public HandshakeState(boolean initiator, byte[] prologue, X25519KeyPair staticKey, X25519KeyPair ephemeral,
            SecureRandom random) {
        this.initiator = initiator;
        this.s = Objects.requireNonNull(staticKey, "static key");
        this.e = ephemeral;
        this.random = random;
        this.ss = new SymmetricState(PROTOCOL_NAME);
        ss.mixHash(prologue);
    }

    /** Whether it is this side's turn to write. */
    public boolean isMyTurn() {
        return !isComplete() && (messageIndex % 2 == 0) == initiator;
    }

    /** Whether all three messages have been processed. */
    public boolean isComplete() {
        return messageIndex == 3;
    }

    /** The remote static key, once received. */
    public byte[] remoteStaticKey() {
        return rs == null ? null : rs.clone();
    }

    /** This side's static public key. */
    public byte[] localStaticKey() {
        return s.publicKey();
    }

    /** The handshake hash h (channel binding), after completion. */
    public byte[] handshakeHash() {
        if (!isComplete()) {
            throw new IllegalStateException("handshake hash only available after the handshake");
        }
        return ss.handshakeHash();
    }

    /** WriteMessage: returns the message carrying {@code payload}. */
    public byte[] writeMessage(byte[] payload) {
        checkUsable();
        if (!isMyTurn()) {
            throw new IllegalStateException("not this side's turn to write (message " + (messageIndex + 1) + ")");
        }
        try {
            byte[] out;
            switch (messageIndex) {
                case 0 -> out = concat(writeE(), ss.encryptAndHash(payload));
                case 1 -> {
                    byte[] eBytes = writeE();
                    ss.mixKey(e.dh(re));                      // ee
                    byte[] sBytes = ss.encryptAndHash(s.publicKey());
                    ss.mixKey(s.dh(re));                      // es (responder side)
                    out = concat(eBytes, sBytes, ss.encryptAndHash(payload));
                }
                default -> {
                    byte[] sBytes = ss.encryptAndHash(s.publicKey());
                    ss.mixKey(s.dh(re));                      // se (initiator side)
                    out = concat(sBytes, ss.encryptAndHash(payload));
                }
            }
            if (out.length > MAX_MESSAGE_LEN) {
                throw new NoiseException("Noise handshake message of " + out.length + " bytes exceeds 65535");
            }
            messageIndex++;
            return out;
        } catch (RuntimeException ex) {
            failed = true;
            throw ex;
        }
    }

    /**
     * ReadMessage: returns the payload.
     *
     * @throws NoiseException if the message is malformed or fails authentication
     */
    public byte[] readMessage(byte[] message) {
        checkUsable();
        if (isMyTurn() || isComplete()) {
            throw new IllegalStateException("not this side's turn to read (message " + (messageIndex + 1) + ")");
        }
        try {
            if (message.length > MAX_MESSAGE_LEN) {
                throw new NoiseException("Noise handshake message exceeds 65535 bytes");
            }
            int off = 0;
            byte[] payload;
            switch (messageIndex) {
                case 0 -> {
                    off = readE(message, off);
                    payload = ss.decryptAndHash(Arrays.copyOfRange(message, off, message.length));
                }
                case 1 -> {
                    off = readE(message, off);
                    ss.mixKey(e.dh(re));                      // ee
                    off = readS(message, off);
                    ss.mixKey(e.dh(rs));                      // es (initiator side)
                    payload = ss.decryptAndHash(Arrays.copyOfRange(message, off, message.length));
                }
                default -> {
                    off = readS(message, off);
                    ss.mixKey(e.dh(rs));                      // se (responder side)
                    payload = ss.decryptAndHash(Arrays.copyOfRange(message, off, message.length));
                }
            }
            messageIndex++;
            return payload;
        } catch (RuntimeException ex) {
            failed = true;
            rs = null; // never expose a key from a message that failed
            throw ex instanceof NoiseException ? ex : new NoiseException("malformed Noise message: " + ex.getMessage(), ex);
        }
    }

    /**
     * Split into transport ciphers: {@code [send, receive]} from this side's point of view.
     *
     * @throws IllegalStateException before completion or when called twice
     */
    public CipherState[] split() {
        if (!isComplete()) {
            throw new IllegalStateException("handshake not complete");
        }
        if (split) {
            throw new IllegalStateException("split already called");
        }
        split = true;
        CipherState[] c = ss.split();
        return initiator ? new CipherState[] {c[0], c[1]} : new CipherState[] {c[1], c[0]};
    }

    private byte[] writeE() {
        if (e == null) {
            e = X25519KeyPair.generate(random);
        }
        byte[] pub = e.publicKey();
        ss.mixHash(pub);
        return pub;
    }

    private int readE(byte[] message, int off) {
        if (message.length - off < X25519KeyPair.DH_LEN) {
            throw new NoiseException("Noise message truncated: no room for the ephemeral key");
        }
        re = Arrays.copyOfRange(message, off, off + X25519KeyPair.DH_LEN);
        ss.mixHash(re);
        return off + X25519KeyPair.DH_LEN;
    }

    private int readS(byte[] message, int off) {
        int len = X25519KeyPair.DH_LEN + (ss.hasKey() ? CipherState.TAG_LEN : 0);
        if (message.length - off < len) {
            throw new NoiseException("Noise message truncated: no room for the static key");
        }
        rs = ss.decryptAndHash(Arrays.copyOfRange(message, off, off + len));
        return off + len;
    }

    private void checkUsable() {
        if (failed) {
            throw new IllegalStateException("Noise handshake has failed; start a new one");
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
