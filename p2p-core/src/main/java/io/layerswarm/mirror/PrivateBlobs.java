package io.layerswarm.mirror;

import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs this node fetched for a repository that needed credentials upstream: they are served only
 * to mirror clients the upstream accepts, and to peers only inside a private swarm (swarm key).
 * Kept in a file (one digest a line) so a restarted node still knows; an unreadable line is
 * skipped. Thread-safe.
 */
public final class PrivateBlobs {
    private static final Logger log = LoggerFactory.getLogger(PrivateBlobs.class);

    private final Path file;
    private final Set<Digest> digests = ConcurrentHashMap.newKeySet();

    private PrivateBlobs(Path file) {
        this.file = file;
    }

    /** Reads (or starts) the list at {@code file}. */
    public static PrivateBlobs open(Path file) throws IOException {
        PrivateBlobs p = new PrivateBlobs(Objects.requireNonNull(file, "file"));
        if (Files.isRegularFile(file)) {
            // ISO-8859-1 reads any byte; Digest.parse judges the line
            for (String line : Files.readAllLines(file, StandardCharsets.ISO_8859_1)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    p.digests.add(Digest.parse(line.trim()));
                } catch (IllegalArgumentException e) {
                    log.warn("event=private_blobs_bad_line file={} error=\"{}\"", file, e.getMessage());
                }
            }
        }
        return p;
    }

    /** Whether {@code digest} came from a repository that needed credentials. */
    public boolean contains(Digest digest) {
        return digests.contains(digest);
    }

    /** Marks a blob private (durably, before it is committed or served). */
    public synchronized void add(Digest digest) throws IOException {
        if (digests.add(digest)) {
            Files.writeString(file, digest + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            log.info("event=blob_private blob={}", digest);
        }
    }

    /** Unmarks a blob anyone may read upstream (it is in a public repository too). */
    public synchronized void remove(Digest digest) throws IOException {
        if (digests.remove(digest)) {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            StringBuilder b = new StringBuilder();
            digests.forEach(d -> b.append(d).append('\n'));
            Files.writeString(tmp, b, StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            log.info("event=blob_public blob={}", digest);
        }
    }
}
