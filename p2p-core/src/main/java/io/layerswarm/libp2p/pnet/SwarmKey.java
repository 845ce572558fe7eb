package io.layerswarm.libp2p.pnet;

import io.layerswarm.libp2p.crypto.SecretFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A libp2p private-network pre-shared key (pnet PSK v1). File format:
 * <pre>
 * /key/swarm/psk/1.0.0/
 * /base16/
 * &lt;64 hex characters&gt;
 * </pre>
 * {@code /base64/} is accepted too. Lines may end in CRLF; anything else is rejected with a
 * message saying which line is wrong. The key itself never appears in {@link #toString()}.
 */
public final class SwarmKey {

    /** The header line. */
    public static final String HEADER = "/key/swarm/psk/1.0.0/";
    /** Key length in bytes. */
    public static final int KEY_LENGTH = 32;
    /** Largest swarm key file accepted. */
    public static final int MAX_FILE_LENGTH = 1024;

    private final byte[] key;

    private SwarmKey(byte[] key) {
        this.key = key;
    }

    /** A random key. */
    public static SwarmKey generate() {
        byte[] k = new byte[KEY_LENGTH];
        new SecureRandom().nextBytes(k);
        return new SwarmKey(k);
    }

    /** Wraps 32 raw key bytes. */
    public static SwarmKey of(byte[] key) {
        if (key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("swarm key must be 32 bytes, got " + key.length);
        }
        return new SwarmKey(key.clone());
    }

    /**
     * Parses swarm key file text.
     *
     * @throws IllegalArgumentException naming the bad line
     */
    public static SwarmKey parse(String text) {
        if (text.length() > MAX_FILE_LENGTH) {
            throw new IllegalArgumentException("swarm key file too long (" + text.length() + " chars)");
        }
        String[] lines = text.split("\r?\n", -1);
        int n = lines.length;
        while (n > 0 && lines[n - 1].isEmpty()) {
            n--;
        }
        if (n != 3) {
            throw new IllegalArgumentException("swarm key must have 3 lines (header, encoding, key), found " + n);
        }
        if (!HEADER.equals(lines[0].strip())) {
            throw new IllegalArgumentException("swarm key line 1 must be " + HEADER);
        }
        String encoding = lines[1].strip();
        String body = lines[2].strip();
        byte[] key;
        switch (encoding) {
            case "/base16/" -> {
                if (body.length() != 2 * KEY_LENGTH || !body.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    throw new IllegalArgumentException("swarm key line 3 must be 64 hex characters, got "
                            + body.length() + " characters");
                }
                key = HexFormat.of().parseHex(body.toLowerCase(Locale.ROOT));
            }
            case "/base64/" -> {
                try {
                    key = Base64.getDecoder().decode(body);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("swarm key line 3 is not base64", e);
                }
                if (key.length != KEY_LENGTH) {
                    throw new IllegalArgumentException("swarm key line 3 decodes to " + key.length + " bytes, need 32");
                }
            }
            default -> throw new IllegalArgumentException("swarm key line 2: unsupported encoding '"
                    + (encoding.length() > 20 ? encoding.substring(0, 20) + "..." : encoding)
                    + "' (use /base16/ or /base64/)");
        }
        return new SwarmKey(key);
    }

    /** Reads a swarm key file. */
    public static SwarmKey read(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE_LENGTH) {
            throw new IOException("swarm key file " + file + " is too large");
        }
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid swarm key file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes this key to a new file (mode 0600, atomic).
     *
     * @throws FileAlreadyExistsException if {@code file} exists (it is left untouched)
     */
    public void writeNew(Path file) throws IOException {
        SecretFiles.write(file, toFileText().getBytes(StandardCharsets.US_ASCII), false);
    }

    /** The file text in the {@code /base16/} form. */
    public String toFileText() {
        return HEADER + "\n/base16/\n" + HexFormat.of().formatHex(key) + "\n";
    }

    /** A copy of the key bytes. */
    public byte[] bytes() {
        return key.clone();
    }

    /** A short non-secret fingerprint (first 8 hex chars of SHA-256 of the key) for logs. */
    public String fingerprint() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key)).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SwarmKey k && MessageDigest.isEqual(k.key, key);
    }

    @Override
    public int hashCode() {
        return fingerprint().hashCode();
    }

    @Override
    public String toString() {
        return "SwarmKey[" + fingerprint() + "]";
    }
}
