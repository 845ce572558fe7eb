package io.layerswarm.libp2p.crypto;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Identity key files. Format: the raw bytes of the libp2p {@code PrivateKey} protobuf (the same bytes
 * go-libp2p and js-libp2p use when they marshal a key), no armour. Files are written to a temp file
 * with mode 0600 in the same directory, fsynced, then atomically renamed, so a crash never leaves a
 * half-written identity and the secret is never world-readable.
 */
public final class KeyFiles {

    private static final Logger LOG = LoggerFactory.getLogger(KeyFiles.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

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
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, OWNER_ONLY);
            } catch (UnsupportedOperationException e) {
                LOG.warn("event=key_file_perms_unsupported file={}", file);
            }
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE,
                    java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(key.marshal()));
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads {@code file}, or generates an Ed25519 key and writes it there if the file does not exist. */
    public static PrivateKey loadOrGenerate(Path file) throws IOException {
        if (Files.exists(file)) {
            return read(file);
        }
        PrivateKey key = Ed25519PrivateKey.generate();
        write(file, key);
        LOG.info("event=identity_generated file={} peer={}", file, key.peerId());
        return key;
    }

}
