package io.layerswarm.libp2p.crypto;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Identity key files. Format: the raw bytes of the libp2p {@code PrivateKey} protobuf (the same bytes
 * go-libp2p and js-libp2p use when they marshal a key), no armour, written with {@link SecretFiles}
 * (mode 0600, atomic).
 */
public final class KeyFiles {

    private static final Logger LOG = LoggerFactory.getLogger(KeyFiles.class);

    private KeyFiles() {
    }

    /**
     * Reads a key file.
     *
     * @throws IOException if unreadable, or (as the cause's message says) not a valid key file
     */
    public static PrivateKey read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Keys.MAX_ENCODED_LENGTH) {
            throw new IOException("key file " + file + " is " + size + " bytes, too large for a key");
        }
        try {
            return Keys.unmarshalPrivateKey(Files.readAllBytes(file));
        } catch (IllegalArgumentException e) {
            throw new IOException("key file " + file + " is not a libp2p PrivateKey protobuf: " + e.getMessage(), e);
        }
    }

    /** Writes {@code key} atomically with owner-only permissions, replacing any existing file. */
    public static void write(Path file, PrivateKey key) throws IOException {
        SecretFiles.write(file, key.marshal(), true);
    }

    /**
     * Reads {@code file}, or generates an Ed25519 key and writes it there if the file does not exist.
     * If another process creates the file at the same moment, its key is the one returned.
     */
    public static PrivateKey loadOrGenerate(Path file) throws IOException {
        if (Files.exists(file)) {
            return read(file);
        }
        PrivateKey key = Ed25519PrivateKey.generate();
        try {
            SecretFiles.write(file, key.marshal(), false);
        } catch (FileAlreadyExistsException raced) {
            return read(file);
        }
        LOG.info("event=identity_generated file={} peer={}", file, key.peerId());
        return key;
    }
}
